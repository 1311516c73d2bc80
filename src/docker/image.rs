//! Images: make sure an image is present (pulling it with a progress bar if not) and find out
//! which PostgreSQL major version it runs, which decides where its data lives.

use futures_util::StreamExt;

use super::{Docker, DockerError};

/// What pgs needs to know about a PostgreSQL image.
#[derive(Debug, Clone)]
pub struct ImageInfo {
    /// PostgreSQL major version, from the image's `PG_MAJOR` or its tag; `None` if unknown.
    pub major: Option<u32>,
    /// The image's `PGDATA`, if it sets one.
    pub pgdata: Option<String>,
}

impl ImageInfo {
    /// Where the data volume is mounted: the official image keeps data in
    /// `/var/lib/postgresql/data` up to 17 and under `/var/lib/postgresql` from 18 on.
    pub fn data_mount(&self) -> &'static str {
        match self.major {
            Some(m) if m >= 18 => "/var/lib/postgresql",
            _ => "/var/lib/postgresql/data",
        }
    }

    /// The data directory: the image's `PGDATA`, else where the official image keeps it.
    pub fn pgdata(&self) -> String {
        self.pgdata.clone().unwrap_or_else(|| match self.major {
            Some(m) if m >= 18 => format!("/var/lib/postgresql/{m}/docker"),
            _ => "/var/lib/postgresql/data".to_string(),
        })
    }
}

/// Why an image is not usable.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The image is not present and pulling it failed.
    #[error(
        "image {image} is not available locally and cannot be pulled ({reason}); \
             load or build it locally, or choose another image with --image"
    )]
    Unavailable {
        /// The image reference.
        image: String,
        /// What the engine said.
        reason: String,
    },
    /// Talking to Docker failed.
    #[error(transparent)]
    Docker(#[from] DockerError),
}

/// Major version from a tag like `postgres:17`, `postgres:16.4-alpine` or `repo/pg:18beta1`.
fn major_from_reference(image: &str) -> Option<u32> {
    let tag = image.rsplit_once(':').map(|(_, t)| t).filter(|t| !t.contains('/'))?;
    let digits: String = tag.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

impl Docker {
    /// Makes sure `image` is present locally, pulling it (progress on stderr) when missing.
    pub async fn ensure_image(&self, image: &str) -> Result<ImageInfo, ImageError> {
        let inspect = match self.api().inspect_image(image).await {
            Ok(i) => i,
            Err(e) => {
                let e = self.err("inspect image", e);
                if !e.is_not_found() {
                    return Err(e.into());
                }
                self.pull(image).await?;
                self.api().inspect_image(image).await.map_err(|e| self.err("inspect image", e))?
            }
        };
        let env = inspect.config.and_then(|c| c.env).unwrap_or_default();
        let env_major = env.iter().find_map(|kv| kv.strip_prefix("PG_MAJOR=").and_then(|v| v.parse().ok()));
        let pgdata = env.iter().find_map(|kv| kv.strip_prefix("PGDATA=").map(str::to_owned));
        Ok(ImageInfo { major: env_major.or_else(|| major_from_reference(image)), pgdata })
    }

    async fn pull(&self, image: &str) -> Result<(), ImageError> {
        let bar = crate::progress::transfer(&format!("pulling {image}"));
        let opts = bollard::image::CreateImageOptions { from_image: image.to_string(), ..Default::default() };
        let mut stream = self.api().create_image(Some(opts), None, None);
        let mut layers = std::collections::HashMap::<String, (i64, i64)>::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(err) = info.error {
                        drop(bar);
                        return Err(ImageError::Unavailable { image: image.to_string(), reason: err });
                    }
                    if let (Some(id), Some(d)) = (info.id, info.progress_detail)
                        && let (Some(cur), Some(total)) = (d.current, d.total)
                    {
                        layers.insert(id, (cur, total));
                        let (cur, total) = layers.values().fold((0, 0), |a, v| (a.0 + v.0, a.1 + v.1));
                        bar.set_total(total.max(1) as u64);
                        bar.set_done(cur.max(0) as u64);
                    }
                }
                Err(e) => {
                    drop(bar);
                    return Err(match self.err("pull image", e) {
                        DockerError::Api { message, .. } => {
                            ImageError::Unavailable { image: image.to_string(), reason: message }
                        }
                        other => other.into(),
                    });
                }
            }
        }
        drop(bar);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_versions_from_tags() {
        assert_eq!(major_from_reference("postgres:17"), Some(17));
        assert_eq!(major_from_reference("postgres:16.4-alpine"), Some(16));
        assert_eq!(major_from_reference("registry:5000/pg:18beta1"), Some(18));
        assert_eq!(major_from_reference("registry:5000/pg"), None);
        assert_eq!(major_from_reference("postgres:latest"), None);
        assert_eq!(ImageInfo { major: Some(18), pgdata: None }.data_mount(), "/var/lib/postgresql");
        assert_eq!(ImageInfo { major: Some(17), pgdata: None }.data_mount(), "/var/lib/postgresql/data");
    }
}
