//! Running commands: inside a tenant's running container (`exec`), in a one-off container that
//! is removed when it ends, and building an image derived from another one.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{HostConfig, Mount, MountTypeEnum};
use futures_util::StreamExt;

use super::{Docker, DockerError};

/// What a command printed and how it ended.
#[derive(Debug, Clone)]
pub struct Output {
    /// Exit code (`-1` if unknown).
    pub code: i64,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Output {
    /// Whether the command exited 0.
    pub fn success(&self) -> bool {
        self.code == 0
    }

    /// The last lines of what it printed, for an error message.
    pub fn tail(&self, lines: usize) -> String {
        let all: Vec<&str> = self.stdout.lines().chain(self.stderr.lines()).filter(|l| !l.trim().is_empty()).collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

/// A container that runs one command to its end.
#[derive(Debug, Clone, Default)]
pub struct OneOff {
    /// Container name (removed first if it exists: a leftover of a crashed run).
    pub name: String,
    /// Image.
    pub image: String,
    /// Entrypoint and arguments.
    pub command: Vec<String>,
    /// User to run as (`None`: the image's).
    pub user: Option<String>,
    /// Environment.
    pub env: Vec<String>,
    /// Named volumes: (volume, mount point).
    pub volumes: Vec<(String, String)>,
    /// Named volumes mounted read-only: (volume, mount point).
    pub read_only_volumes: Vec<(String, String)>,
    /// Labels.
    pub labels: HashMap<String, String>,
    /// Tar archives unpacked into the container before it starts: (directory, archive).
    pub uploads: Vec<(String, Vec<u8>)>,
    /// The network to join (`None`: no network at all).
    pub network: Option<String>,
    /// Host directories bind-mounted (`HOST:CONTAINER`): a tenant's socket dir.
    pub binds: Vec<String>,
}

impl Docker {
    /// Runs `cmd` as `user` in the running container `name` and waits for it, at most `timeout`.
    /// `env` is given to this process only (not kept in the container's configuration, so a
    /// secret there does not show in `docker inspect`).
    pub async fn exec(
        &self,
        name: &str,
        user: &str,
        cmd: &[String],
        env: &[String],
        timeout: Duration,
    ) -> Result<Output, DockerError> {
        let opts = bollard::exec::CreateExecOptions {
            cmd: Some(cmd.to_vec()),
            env: Some(env.to_vec()),
            user: Some(user.to_string()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let action = format!("run {} in {name}", cmd.first().map_or("", String::as_str));
        let exec = self.api().create_exec(name, opts).await.map_err(|e| self.err(&action, e))?;
        let run = async {
            let mut out = Output { code: -1, stdout: String::new(), stderr: String::new() };
            if let bollard::exec::StartExecResults::Attached { mut output, .. } =
                self.api().start_exec(&exec.id, None).await.map_err(|e| self.err(&action, e))?
            {
                while let Some(chunk) = output.next().await {
                    match chunk.map_err(|e| self.err(&action, e))? {
                        bollard::container::LogOutput::StdErr { message } => {
                            out.stderr.push_str(&String::from_utf8_lossy(&message))
                        }
                        other => out.stdout.push_str(&String::from_utf8_lossy(&other.into_bytes())),
                    }
                }
            }
            let inspect = self.api().inspect_exec(&exec.id).await.map_err(|e| self.err(&action, e))?;
            out.code = inspect.exit_code.unwrap_or(-1);
            Ok(out)
        };
        tokio::time::timeout(timeout, run).await.map_err(|_| DockerError::Api {
            action,
            status: 0,
            message: format!("no answer within {}s", timeout.as_secs()),
        })?
    }

    /// Runs a one-off container (without network unless it names one) to its end (at most
    /// `timeout`), then removes it.
    pub async fn run_once(&self, spec: &OneOff, timeout: Duration) -> Result<Output, DockerError> {
        self.run_once_watched(spec, timeout, &mut |_| {}).await
    }

    /// As [`Docker::run_once`], handing every line the container prints to `on_line` as it comes
    /// (progress). The wait ends the moment the container exits. What it printed is kept up to
    /// [`MAX_OUTPUT`] bytes, then only its last lines.
    pub async fn run_once_watched(
        &self,
        spec: &OneOff,
        timeout: Duration,
        on_line: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Output, DockerError> {
        self.remove_container(&spec.name).await?;
        let writable = spec.volumes.iter().map(|v| (v, false));
        let mounts = writable
            .chain(spec.read_only_volumes.iter().map(|v| (v, true)))
            .map(|((volume, target), read_only)| Mount {
                source: Some(volume.clone()),
                target: Some(target.clone()),
                typ: Some(MountTypeEnum::VOLUME),
                read_only: Some(read_only),
                ..Default::default()
            })
            .collect();
        let config = bollard::container::Config {
            image: Some(spec.image.clone()),
            entrypoint: Some(spec.command.clone()),
            cmd: Some(Vec::new()),
            user: spec.user.clone(),
            env: Some(spec.env.clone()),
            labels: Some(spec.labels.clone()),
            network_disabled: Some(spec.network.is_none()),
            host_config: Some(HostConfig {
                mounts: Some(mounts),
                binds: (!spec.binds.is_empty()).then(|| spec.binds.clone()),
                network_mode: Some(spec.network.clone().unwrap_or_else(|| "none".into())),
                ..Default::default()
            }),
            ..Default::default()
        };
        let opts = bollard::container::CreateContainerOptions { name: spec.name.clone(), platform: None };
        let action = format!("run the one-off container {}", spec.name);
        self.api().create_container(Some(opts), config).await.map_err(|e| self.err(&action, e))?;
        let result = async {
            for (dir, tar) in &spec.uploads {
                self.upload(&spec.name, dir, tar.clone()).await?;
            }
            self.start_container(&spec.name).await?;
            let watch = async {
                // The log stream ends when the container does.
                let opts = bollard::container::LogsOptions::<String> {
                    follow: true,
                    stdout: true,
                    stderr: true,
                    ..Default::default()
                };
                let mut logs = self.api().logs(&spec.name, Some(opts));
                let mut printed = Printed::default();
                while let Some(chunk) = logs.next().await {
                    let Ok(chunk) = chunk else { break };
                    printed.push(&String::from_utf8_lossy(&chunk.into_bytes()), on_line);
                }
                printed.finish(on_line);
                let mut stream =
                    self.api().wait_container(&spec.name, None::<bollard::container::WaitContainerOptions<String>>);
                let code = match stream.next().await {
                    Some(Ok(r)) => r.status_code,
                    // A non-zero exit comes back as an error carrying the code.
                    Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
                    Some(Err(e)) => return Err(self.err(&action, e)),
                    None => -1,
                };
                Ok(Output { code, stdout: printed.text(), stderr: String::new() })
            };
            tokio::time::timeout(timeout, watch).await.map_err(|_| DockerError::Api {
                action: action.clone(),
                status: 0,
                message: format!("not finished within {}s", timeout.as_secs()),
            })?
        }
        .await;
        let _ = self.remove_container(&spec.name).await;
        result
    }

    /// Builds `tag` from a Dockerfile (nothing else in the context), showing progress.
    pub async fn build(&self, tag: &str, dockerfile: &str, labels: HashMap<String, String>) -> Result<(), DockerError> {
        let context = super::archive::Archive::single("Dockerfile", dockerfile.as_bytes(), 0o644).map_err(|e| {
            DockerError::Api { action: "pack the build context".into(), status: 0, message: e.to_string() }
        })?;
        let opts = bollard::image::BuildImageOptions {
            dockerfile: "Dockerfile".to_string(),
            t: tag.to_string(),
            rm: true,
            forcerm: true,
            labels,
            ..Default::default()
        };
        let action = format!("build the image {tag}");
        let step = crate::progress::step(&format!("building the image {tag}"));
        let mut stream = self.api().build_image(opts, None, Some(context.into()));
        let mut log = String::new();
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| self.err(&action, e))?;
            if let Some(error) = info.error {
                drop(step);
                let tail: Vec<&str> = log.lines().rev().take(10).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                return Err(DockerError::Api { action, status: 0, message: format!("{error}\n{}", tail.join("\n")) });
            }
            if let Some(line) = info.stream {
                log.push_str(&line);
            }
        }
        drop(step);
        Ok(())
    }

    /// The id of an image, if present.
    pub async fn image_id(&self, image: &str) -> Result<Option<String>, DockerError> {
        let r = self.api().inspect_image(image).await.map(|i| i.id);
        self.or_missing("inspect image", r, None)
    }
}

/// How much of a one-off container's output is kept whole.
pub const MAX_OUTPUT: usize = 16 << 20;

/// What a one-off container printed, cut into lines as it arrives: kept whole up to
/// [`MAX_OUTPUT`], then only the last 200 lines.
#[derive(Default)]
struct Printed {
    kept: String,
    partial: String,
    tail: std::collections::VecDeque<String>,
    cut: bool,
}

impl Printed {
    fn push(&mut self, text: &str, on_line: &mut (dyn FnMut(&str) + Send)) {
        self.partial.push_str(text);
        while let Some(end) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=end).collect();
            self.line(line, on_line);
        }
        if self.partial.len() > MAX_OUTPUT {
            let line = std::mem::take(&mut self.partial);
            self.line(line, on_line);
        }
    }

    fn line(&mut self, line: String, on_line: &mut (dyn FnMut(&str) + Send)) {
        on_line(line.trim_end_matches(['\r', '\n']));
        if !self.cut && self.kept.len() + line.len() <= MAX_OUTPUT {
            self.kept.push_str(&line);
            return;
        }
        self.cut = true;
        self.tail.push_back(line);
        if self.tail.len() > 200 {
            self.tail.pop_front();
        }
    }

    fn finish(&mut self, on_line: &mut (dyn FnMut(&str) + Send)) {
        if !self.partial.is_empty() {
            let mut line = std::mem::take(&mut self.partial);
            line.push('\n');
            self.line(line, on_line);
        }
    }

    fn text(self) -> String {
        if !self.cut {
            return self.kept;
        }
        let mut text = self.kept;
        text.push_str("[... output cut ...]\n");
        text.extend(self.tail);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_cut_into_lines_across_chunks() {
        let mut lines = Vec::new();
        let mut printed = Printed::default();
        let mut collect = |l: &str| lines.push(l.to_string());
        printed.push("pgs-restored: 1", &mut collect);
        printed.push("0\nnext\nlast", &mut collect);
        printed.finish(&mut collect);
        assert_eq!(lines, ["pgs-restored: 10", "next", "last"]);
        assert_eq!(printed.text(), "pgs-restored: 10\nnext\nlast\n");
    }
}
