//! `pgs certs ...` and the certificate choice `pgs setup` offers in a terminal: flags (or
//! answers) become [`acme::Settings`]; the work is done by [`Platform`].

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};

use super::args::{CertsCommand, DnsKind, IssueArgs};
use super::{interactive, print_json};
use crate::certs::dns::{Provider, Secret, cloudflare::Cloudflare, rfc2136};
use crate::certs::{acme, store};
use crate::platform::Platform;
use crate::state::CertificateSource;

/// Runs one `pgs certs` subcommand.
pub async fn run(platform: &Platform, command: CertsCommand) -> Result<()> {
    let config = platform.state().config()?;
    // Whether the certificate changed: the other nodes' gateways then get it at once.
    let changed = match command {
        CertsCommand::Issue(a) => {
            issue(platform, &a).await?;
            true
        }
        CertsCommand::Renew(a) => {
            let outcome = platform.renew_certificate(a.force).await?;
            let renewed = matches!(outcome, acme::Renewal::Renewed { .. });
            if a.json {
                print_json(&outcome)?;
            } else {
                match outcome {
                    acme::Renewal::Renewed { not_after, serial } => {
                        println!(
                            "renewed: serial {serial}, valid until {not_after}; the gateway uses it for new connections"
                        )
                    }
                    acme::Renewal::NotDue { renew_after, source } => {
                        let why =
                            if source == "ari" { "the CA's renewal window" } else { "a third of its lifetime left" };
                        println!("not due: renewal from {renew_after} ({why}); nothing to do")
                    }
                }
            }
            renewed
        }
        CertsCommand::SelfSigned => {
            let files = platform.self_signed(&config)?;
            println!("certificate for *.{0} and {0}: {1}", config.domain, files.cert().display());
            println!("clients trust: {}", files.ca().display());
            true
        }
        CertsCommand::Import(a) => {
            let files = platform.import_certificate(&a.cert, &a.key)?;
            let st = store::status(&files, &config.domain, false)?;
            if !st.covers_domain {
                eprintln!(
                    "pgs: warning: the certificate names {} but not both *.{1} and {1}",
                    st.names.join(", "),
                    config.domain
                );
            }
            println!(
                "installed {} (valid until {}); the gateway uses it for new connections",
                files.cert().display(),
                st.not_after
            );
            true
        }
        CertsCommand::Status(a) => {
            let files = platform.state().cert_files();
            let local = config.certificate == CertificateSource::SelfSigned;
            let st = store::status(&files, &config.domain, local)?;
            if a.json {
                print_json(&st)?;
            } else {
                println!("names:        {}", st.names.join(", "));
                println!("issuer:       {}", st.issuer);
                println!("serial:       {}", st.serial);
                println!("valid:        {} .. {}", st.not_before, st.not_after);
                println!("renew after:  {}", st.renew_after);
                println!("certificate:  {}", st.cert_file);
                println!("key:          {}", st.key_file);
                if let Some(ca) = &st.ca_file {
                    println!("clients trust: {ca}");
                }
            }
            false
        }
    };
    if changed {
        platform.tell_nodes().await?;
    }
    Ok(())
}

/// `pgs certs issue`: checks the flags, asks for the CA's terms, issues and reports.
async fn issue(platform: &Platform, a: &IssueArgs) -> Result<()> {
    let config = platform.state().config()?;
    let (settings, eab) = settings(a)?;
    if !a.yes {
        if !interactive() {
            bail!("issuing needs your agreement to the CA's terms of service: pass --yes");
        }
        let ok = dialoguer::Confirm::new()
            .with_prompt(format!("Agree to the terms of service of the CA at {}?", settings.directory))
            .default(true)
            .interact()?;
        if !ok {
            bail!("cancelled: the CA issues only to accounts that agree to its terms");
        }
    }
    eprintln!("pgs: ordering a certificate for *.{0} and {0} from {1}", config.domain, settings.directory);
    let files = platform.issue_certificate(&config, &settings, eab.as_ref()).await?;
    let st = store::status(&files, &config.domain, false)?;
    println!(
        "installed a certificate for {} from {} (serial {}, valid until {}); the gateway uses it for new connections",
        st.names.join(", "),
        st.issuer,
        st.serial,
        st.not_after
    );
    println!("renewal: `pgs certs renew` from a timer (templates/pgs-certs-renew.timer); due from {}", st.renew_after);
    Ok(())
}

/// The saved settings and the one-time EAB key that the flags describe.
fn settings(a: &IssueArgs) -> Result<(acme::Settings, Option<acme::Eab>)> {
    let dns = match a.dns {
        DnsKind::Rfc2136 => {
            let text = match (&a.tsig_secret_file, std::env::var("PGS_TSIG_SECRET")) {
                (Some(f), _) => std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?,
                (None, Ok(v)) => v,
                (None, Err(_)) => {
                    bail!("--dns rfc2136 needs the TSIG secret: --tsig-secret-file FILE or env PGS_TSIG_SECRET")
                }
            };
            let key = rfc2136::parse_key(&text)?;
            Provider::Rfc2136(rfc2136::Rfc2136 {
                server: a.dns_server.ok_or_else(|| anyhow!("--dns rfc2136 needs --dns-server ADDR:PORT"))?,
                zone: a.dns_zone.clone(),
                key_name: a
                    .tsig_key_name
                    .clone()
                    .or(key.name)
                    .ok_or_else(|| anyhow!("--tsig-key-name is required: the key file names no key"))?,
                algorithm: a.tsig_algorithm.clone().or(key.algorithm).unwrap_or_else(|| "hmac-sha256".into()),
                secret: Secret::new(key.secret),
            })
        }
        DnsKind::Cloudflare => Provider::Cloudflare(Cloudflare {
            token: Secret::new(std::env::var("CLOUDFLARE_API_TOKEN").map_err(|_| {
                anyhow!("--dns cloudflare needs an API token with Zone:DNS:Edit in env CLOUDFLARE_API_TOKEN")
            })?),
        }),
        DnsKind::Exec => {
            let program = a.dns_exec.clone().ok_or_else(|| anyhow!("--dns exec needs --dns-exec PROGRAM"))?;
            // A path is made absolute, so that `renew` from a timer finds it from any directory.
            let program = if program.contains('/') {
                std::fs::canonicalize(&program)
                    .with_context(|| format!("cannot find --dns-exec {program}"))?
                    .display()
                    .to_string()
            } else {
                program
            };
            Provider::Exec { program }
        }
        DnsKind::Manual => {
            if !interactive() {
                bail!(
                    "--dns manual needs a terminal to wait for you; use --dns rfc2136, cloudflare or exec for automation"
                );
            }
            Provider::Manual
        }
    };
    let ca_root = a.ca_root.as_ref().map(std::fs::canonicalize).transpose().context("cannot find --ca-root")?;
    let settings = acme::Settings {
        schema_version: crate::state::SCHEMA_VERSION,
        directory: acme::directory_url(&a.ca),
        email: a.email.clone(),
        ca_root,
        dns,
        propagation_resolver: a.propagation_resolver,
        propagation_timeout_secs: a.propagation_timeout,
    };
    let eab = match (&a.eab_kid, &a.eab_hmac) {
        (Some(kid), Some(hmac)) => Some(acme::Eab { kid: kid.clone(), hmac: hmac.clone() }),
        _ => None,
    };
    Ok((settings, eab))
}

/// In a terminal, `pgs setup` asks how the gateway gets its certificate and gets it.
pub async fn choose_in_setup(platform: &Platform) -> Result<()> {
    let theme = dialoguer::theme::SimpleTheme;
    let config = platform.state().config()?;
    let current = match config.certificate {
        CertificateSource::SelfSigned => "the local CA",
        CertificateSource::Acme => "an ACME CA",
        CertificateSource::Imported => "imported files",
        CertificateSource::None => "none yet",
    };
    let choice = dialoguer::Select::with_theme(&theme)
        .with_prompt(format!("Certificate for *.{} (now: {current})", config.domain))
        .items(&[
            "keep what is installed",
            "a local CA (development: clients trust certs/ca.pem)",
            "an ACME CA (Let's Encrypt, ZeroSSL, ...) through DNS-01",
            "certificate files I already have",
        ])
        .default(0)
        .interact()?;
    match choice {
        1 => {
            let files = platform.self_signed(&config)?;
            println!("certificate from the local CA; clients trust {}", files.ca().display());
        }
        2 => issue(platform, &prompt_acme(&theme)?).await?,
        3 => {
            let path = |what: &str| -> Result<PathBuf> {
                Ok(dialoguer::Input::<String>::with_theme(&theme).with_prompt(what).interact_text()?.into())
            };
            let (cert, key) = (path("Certificate chain (PEM)")?, path("Private key (PEM)")?);
            platform.import_certificate(&cert, &key)?;
            println!("installed {}", cert.display());
        }
        _ => {}
    }
    Ok(())
}

/// Asks what `pgs certs issue` takes as flags.
fn prompt_acme(theme: &dialoguer::theme::SimpleTheme) -> Result<IssueArgs> {
    let text = |prompt: &str, default: &str| -> Result<String> {
        let mut input = dialoguer::Input::<String>::with_theme(theme).with_prompt(prompt).allow_empty(true);
        if !default.is_empty() {
            input = input.default(default.to_string());
        }
        Ok(input.interact_text()?.trim().to_string())
    };
    let optional = |s: String| (!s.is_empty()).then_some(s);
    let cas = ["letsencrypt", "letsencrypt-staging", "zerossl", "another CA (directory URL)"];
    let ca = match dialoguer::Select::with_theme(theme).with_prompt("ACME CA").items(&cas).default(0).interact()? {
        3 => text("Directory URL", "")?,
        i => cas[i].to_string(),
    };
    let email = optional(text("Contact e-mail (optional)", "")?);
    let needs_eab = ca == "zerossl"
        || dialoguer::Confirm::with_theme(theme)
            .with_prompt("Does the CA require external account binding?")
            .default(false)
            .interact()?;
    let (eab_kid, eab_hmac) = if needs_eab {
        let kid = text("EAB key id", "")?;
        let hmac = dialoguer::Password::with_theme(theme).with_prompt("EAB HMAC key").interact()?;
        (Some(kid), Some(hmac))
    } else {
        (None, None)
    };
    let kinds = [DnsKind::Rfc2136, DnsKind::Cloudflare, DnsKind::Exec, DnsKind::Manual];
    let dns = kinds[dialoguer::Select::with_theme(theme)
        .with_prompt("DNS provider for the _acme-challenge TXT records")
        .items(&[
            "rfc2136: TSIG dynamic updates (BIND, Knot, PowerDNS)",
            "cloudflare (token in CLOUDFLARE_API_TOKEN)",
            "exec: a program of mine",
            "manual",
        ])
        .default(0)
        .interact()?];
    let mut args = IssueArgs {
        ca,
        email,
        eab_kid,
        eab_hmac,
        ca_root: None,
        dns,
        dns_server: None,
        dns_zone: None,
        tsig_key_name: None,
        tsig_algorithm: None,
        tsig_secret_file: None,
        dns_exec: None,
        propagation_resolver: None,
        propagation_timeout: 300,
        yes: false,
    };
    match dns {
        DnsKind::Rfc2136 => {
            args.dns_server =
                Some(text("Name server taking updates (ADDR:PORT)", "")?.parse().context("expected ADDR:PORT")?);
            args.tsig_secret_file = Some(text("File with the TSIG key (tsig-keygen output)", "")?.into());
            args.tsig_key_name = optional(text("TSIG key name (empty: the one in the file)", "")?);
        }
        DnsKind::Exec => args.dns_exec = Some(text("Program (called as PROGRAM present|cleanup FQDN VALUE)", "")?),
        DnsKind::Cloudflare | DnsKind::Manual => {}
    }
    Ok(args)
}
