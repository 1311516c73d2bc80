
use builtin;
use str;

set edit:completion:arg-completer[pgs] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'pgs'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'pgs'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand setup 'Create or update the configuration: state dir, domain, certificate choice'
            cand create 'Create a tenant: container, volume, network and credentials'
            cand list 'List tenants with their hostname, status and access'
            cand info 'Show a tenant''s connection details'
            cand start 'Start a tenant, or every tenant'
            cand stop 'Stop a tenant, or every tenant'
            cand recreate 'Recreate a tenant''s container, or every tenant''s one at a time, on the same data (after an upgrade of pgs: no healthcheck process, sockets, settings); each restarts'
            cand remove 'Remove a tenant (keeps its data volume unless --purge)'
            cand prune-volumes 'Delete a tenant''s data volumes that it does not run on (what restores left; `pgs info` lists them)'
            cand enable-access 'Let the gateway admit a tenant''s clients'
            cand disable-access 'Refuse a tenant''s clients at the gateway'
            cand allow 'Add client networks (CIDR) to a tenant''s allowlist (an empty list admits everyone)'
            cand deny 'Remove client networks (CIDR) from a tenant''s allowlist'
            cand suspend-policy 'Scale to zero: suspend a tenant after a time without clients (--after), or never (--never)'
            cand suspend 'Suspend a tenant now (stopped until its next client wakes it)'
            cand pool 'Show or change the pooled endpoint TENANT-pooler (applies while the gateway runs)'
            cand controller 'The controller: suspends idle tenants and wakes them for the gateway (the managed gateway''s `pgs-controller` container runs it; `pgs gateway run` runs one inside)'
            cand gateway 'The gateway: one TLS port for every tenant'
            cand certs 'Certificates for the gateway'
            cand backup 'Backups (pgBackRest): turn them on, take one, list them'
            cand restore 'Restore a tenant to a point in time, its latest state or a backup (keeps the current data)'
            cand clone 'Create a tenant from another tenant''s backups (its latest state, or --at / --backup); the source keeps running'
            cand swarm 'More than one host: make this host''s engine a Docker Swarm manager and the first pgs node'
            cand node 'The hosts of a swarm: add one, list them, remove one'
            cand move 'Move a tenant to another node of the swarm with its data (states the downtime first)'
            cand ha 'High availability: the store, a synchronous standby per tenant, its status'
            cand switchover 'Make an HA tenant''s standby its primary, planned (maintenance); the old primary rejoins as standby'
            cand agent 'The per-node agent of high availability (run by `pgs ha init` in the container pgs-agent)'
            cand api 'The HTTP API: a second front end over the same verbs (`pgs api run`)'
            cand token 'Bearer tokens of the HTTP API: make one, list them, revoke one'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;setup'= {
            cand --domain 'Public domain; tenants are reached as TENANT.DOMAIN'
            cand --image 'Default PostgreSQL image for new tenants'
            cand --gateway-port 'Port the gateway listens on'
            cand --health-port 'Port (on 127.0.0.1) of the managed gateway''s /health, /ready and /metrics'
            cand --backups 'Back up tenants (pgBackRest): `local` keeps each tenant''s repository in a volume of its own; new tenants archive WAL from the start'
            cand --s3-endpoint 'With --backups s3: the endpoint as tenant containers reach it, HOST or HOST:PORT (keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)'
            cand --s3-bucket 'With --backups s3: the bucket (each tenant gets a path of its own in it)'
            cand --s3-region 'With --backups s3: the region'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --self-signed 'Use a local CA and a self-signed wildcard certificate (development, tests)'
            cand --no-gateway 'Do not start the managed gateway (e.g. to run `pgs gateway run` under systemd instead)'
            cand --s3-path-style 'With --backups s3: path-style URLs (most self-hosted stores)'
            cand --s3-no-verify-tls 'With --backups s3: do not verify the endpoint''s TLS certificate (test setups only)'
            cand -y 'Never prompt; take defaults for what is not given'
            cand --yes 'Never prompt; take defaults for what is not given'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;create'= {
            cand --image 'PostgreSQL image (default: the one chosen at setup)'
            cand --password 'Password for the tenant''s role (default: generated)'
            cand --memory 'Memory limit, e.g. 512m or 2g'
            cand --cpus 'CPU limit, e.g. 1.5'
            cand --suspend-after 'Scale to zero: stop the tenant after this long without clients or activity (e.g. 15m); the next client wakes it'
            cand --pg-setting 'A PostgreSQL setting for this tenant, over the ones pgs derives from --memory (repeatable), e.g. --pg-setting max_connections=200'
            cand --standby-node 'The node of the standby (default: the ready node with the most memory free)'
            cand --durability 'required: a commit returns once the standby has it (only a synchronous standby is promoted); preferred: synchronous while the standby is there, else asynchronous (not promoted when over 1 MiB behind)'
            cand --node 'The node to make it on, with a swarm (default: the one with the most memory free)'
            cand --timeout 'Seconds to wait for the database to accept connections'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --no-access 'Create the tenant with access disabled'
            cand --egress 'Let the tenant''s PostgreSQL connect out (postgres_fdw, dblink): its container joins Docker''s default bridge. Without it the container has no network (nothing connects in either way: clients come through the gateway)'
            cand --adopt 'Reuse the data volume a `pgs remove` without --purge left behind'
            cand --ha 'Give it a synchronous standby on another node (high availability; `pgs ha init` first)'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;list'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;info'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --show-password 'Include the password and a full connection URL'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;start'= {
            cand --timeout 'Seconds to wait for each database to accept connections'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;stop'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;recreate'= {
            cand --timeout 'Seconds to wait for each database to accept connections'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;remove'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand --purge 'Also delete the data volume and the stored passwords (irreversible); backups are kept'
            cand --purge-backups 'With --purge, also delete the tenant''s backups (irreversible)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;prune-volumes'= {
            cand --volume 'Only this volume (default: every data volume of the tenant but the one in use)'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;enable-access'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;disable-access'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;allow'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;deny'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;suspend-policy'= {
            cand --after 'Suspend after this long without clients or activity, e.g. 15m'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --never 'Never suspend the tenant'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;suspend'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --force 'Suspend even with client sessions open (they are closed)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;pool'= {
            cand --mode 'Transaction pooling (a server connection per transaction), session pooling, or auto (per transaction, kept for a client while it holds session state such as LISTEN)'
            cand --size 'Server connections per role and database'
            cand --max-clients 'Pooled clients at once for the tenant'
            cand --queue-timeout 'Seconds a client waits for a server connection before it is refused (53300)'
            cand --server-idle-timeout 'Seconds an unused server connection is kept'
            cand --reserve 'In auto mode, server connections per role and database that clients holding session state (LISTEN, SET ROLE, ...) may keep for themselves [default: half of --size]'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --reset 'Back to the settings derived from the tenant''s memory'
            cand --json 'Print JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;controller'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run the controller in the foreground'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;controller;run'= {
            cand --node 'The node of a swarm whose dir PGS_HOME is (its `pgs-controller` container): watch that node''s tenants (pgs starts it there; not for the manager''s state dir)'
            cand --wake-timeout 'How long a wake may take before the held clients are told to retry'
            cand --log-format 'Log format'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;controller;help'= {
            cand run 'Run the controller in the foreground'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;controller;help;run'= {
        }
        &'pgs;controller;help;help'= {
        }
        &'pgs;gateway'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run the gateway in the foreground until SIGINT/SIGTERM'
            cand start 'Start the managed gateway container (pgs-gateway), building its image from this binary; a running gateway of another pgs version is replaced without refusing a connection'
            cand stop 'Stop the managed gateway container (open sessions drain first)'
            cand restart 'Replace the managed gateway container by a new one without refusing a connection'
            cand status 'Show the managed gateway''s health, version, uptime and open sessions'
            cand logs 'Print the managed gateway''s log'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;gateway;run'= {
            cand --listen 'Address to listen on (default: 0.0.0.0 and the gateway port from the config)'
            cand --health-listen 'Address of /health, /ready and /metrics'
            cand --log-format 'Log format'
            cand --handshake-timeout 'Seconds a client has to complete TLS and startup'
            cand --max-connections 'Connections open at once, over all tenants'
            cand --max-connections-per-tenant 'Sessions open at once per tenant'
            cand --drain-timeout 'Seconds open sessions may finish after SIGTERM (then they end with SQLSTATE 57P01)'
            cand --takeover-drain 'When this gateway takes over from a running one: how long that one may serve its open sessions (then they end with SQLSTATE 57P01)'
            cand --bind-retry 'How long to retry binding the client port while another process holds it (default: fail at once)'
            cand --backend 'Which tenant address to dial'
            cand --wake-timeout 'How long a client of a suspended tenant is held while it starts (then SQLSTATE 57P03)'
            cand --serve-threads 'Threads serving sessions, each a single-threaded runtime that keeps its sessions (default: half the cores, at least one); 0 serves them on the shared work-stealing runtime instead'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --allow-plaintext 'Accept clients without TLS (only on private networks)'
            cand --keep-sessions-on-revoke 'Keep open sessions when a tenant is disabled, stopped or removed'
            cand --no-controller 'Do not run the controller (which suspends idle tenants and wakes them) in this process'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;gateway;start'= {
            cand --drain 'How long a replaced gateway may serve its open sessions (then they end with SQLSTATE 57P01, "the gateway is restarting, reconnect")'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;gateway;stop'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;gateway;restart'= {
            cand --drain 'How long a replaced gateway may serve its open sessions (then they end with SQLSTATE 57P01, "the gateway is restarting, reconnect")'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;gateway;status'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;gateway;logs'= {
            cand --tail 'Lines from the end to start with ("all" for everything)'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -f 'Keep printing new lines'
            cand --follow 'Keep printing new lines'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;gateway;help'= {
            cand run 'Run the gateway in the foreground until SIGINT/SIGTERM'
            cand start 'Start the managed gateway container (pgs-gateway), building its image from this binary; a running gateway of another pgs version is replaced without refusing a connection'
            cand stop 'Stop the managed gateway container (open sessions drain first)'
            cand restart 'Replace the managed gateway container by a new one without refusing a connection'
            cand status 'Show the managed gateway''s health, version, uptime and open sessions'
            cand logs 'Print the managed gateway''s log'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;gateway;help;run'= {
        }
        &'pgs;gateway;help;start'= {
        }
        &'pgs;gateway;help;stop'= {
        }
        &'pgs;gateway;help;restart'= {
        }
        &'pgs;gateway;help;status'= {
        }
        &'pgs;gateway;help;logs'= {
        }
        &'pgs;gateway;help;help'= {
        }
        &'pgs;certs'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand issue 'Obtain a certificate for *.DOMAIN and DOMAIN from an ACME CA through DNS-01'
            cand renew 'Renew the ACME certificate if it is due (safe to run from cron or a timer)'
            cand self-signed 'Issue a wildcard certificate for *.DOMAIN and DOMAIN from a local CA in the state dir'
            cand import 'Install a certificate chain and key you already have (PEM files)'
            cand status 'Show the installed certificate: names, issuer, validity, renewal date, files'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;certs;issue'= {
            cand --ca 'ACME CA: letsencrypt, letsencrypt-staging, zerossl, or a directory URL'
            cand --email 'Contact address for the CA''s expiry and policy notices'
            cand --eab-kid 'External account binding key id (ZeroSSL and CAs that require EAB)'
            cand --eab-hmac 'External account binding HMAC key, base64url (better: env PGS_EAB_HMAC)'
            cand --ca-root 'Extra root certificate (PEM) to trust for the ACME server''s own HTTPS (test CAs)'
            cand --dns 'How to publish the DNS-01 TXT records'
            cand --dns-server 'rfc2136: the name server that takes dynamic updates'
            cand --dns-zone 'rfc2136: the zone to update (default: found with an SOA query)'
            cand --tsig-key-name 'rfc2136: TSIG key name (default: the name in the key file)'
            cand --tsig-algorithm 'rfc2136: TSIG algorithm (default: the key file''s, else hmac-sha256)'
            cand --tsig-secret-file 'rfc2136: file with the TSIG secret (base64, or `tsig-keygen` output); or env PGS_TSIG_SECRET'
            cand --dns-exec 'exec: program run as `PROGRAM present|cleanup FQDN VALUE`'
            cand --propagation-resolver 'Name server asked whether the records are visible (default: the rfc2136 server, else the zone''s authoritative servers)'
            cand --propagation-timeout 'Seconds to wait for the records to become visible'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -y 'Agree to the CA''s terms of service without asking'
            cand --yes 'Agree to the CA''s terms of service without asking'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;certs;renew'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --force 'Renew even if the certificate is not due'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;certs;self-signed'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;certs;import'= {
            cand --cert 'Certificate chain (PEM, leaf first) covering *.DOMAIN and DOMAIN'
            cand --key 'Its private key (PEM)'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;certs;status'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;certs;help'= {
            cand issue 'Obtain a certificate for *.DOMAIN and DOMAIN from an ACME CA through DNS-01'
            cand renew 'Renew the ACME certificate if it is due (safe to run from cron or a timer)'
            cand self-signed 'Issue a wildcard certificate for *.DOMAIN and DOMAIN from a local CA in the state dir'
            cand import 'Install a certificate chain and key you already have (PEM files)'
            cand status 'Show the installed certificate: names, issuer, validity, renewal date, files'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;certs;help;issue'= {
        }
        &'pgs;certs;help;renew'= {
        }
        &'pgs;certs;help;self-signed'= {
        }
        &'pgs;certs;help;import'= {
        }
        &'pgs;certs;help;status'= {
        }
        &'pgs;certs;help;help'= {
        }
        &'pgs;backup'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand enable 'Turn backups on for a tenant created before (or every tenant): restarts it with WAL archiving, then takes a full backup'
            cand run 'Take a backup now'
            cand list 'List a tenant''s backups and archived WAL'
            cand verify 'The restore drill: recover a throwaway copy to a random moment of the restorable window (checked), then to the latest state, check every database, record'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;backup;enable'= {
            cand --timeout 'Seconds to wait for each database to accept connections after the restart'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --all 'Every tenant that has no backups yet'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;backup;run'= {
            cand --type 'What to copy: everything, or the changes since the last full (diff) or last backup (incr)'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --due 'Every tenant with backups whose backup is due: full weekly, diff daily (for a timer)'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;backup;list'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;backup;verify'= {
            cand --at 'The moment to recover to first (default: a random one of the restorable window)'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;backup;help'= {
            cand enable 'Turn backups on for a tenant created before (or every tenant): restarts it with WAL archiving, then takes a full backup'
            cand run 'Take a backup now'
            cand list 'List a tenant''s backups and archived WAL'
            cand verify 'The restore drill: recover a throwaway copy to a random moment of the restorable window (checked), then to the latest state, check every database, record'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;backup;help;enable'= {
        }
        &'pgs;backup;help;run'= {
        }
        &'pgs;backup;help;list'= {
        }
        &'pgs;backup;help;verify'= {
        }
        &'pgs;backup;help;help'= {
        }
        &'pgs;restore'= {
            cand --at 'Recover everything committed before this time (RFC 3339, e.g. 2026-11-26T21:00:00Z)'
            cand --backup 'Recover to the end of one backup (a label from `pgs backup list`)'
            cand --timeout 'Seconds to wait for the restored database to accept connections'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --latest 'Recover everything archived (the newest state)'
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;clone'= {
            cand --at 'Copy the source as it was at this time (RFC 3339), not its latest state'
            cand --backup 'Copy the source as of one backup (a label from `pgs backup list`)'
            cand --password 'Password for the tenant''s role (default: generated)'
            cand --memory 'Memory limit, e.g. 512m or 2g'
            cand --cpus 'CPU limit, e.g. 1.5'
            cand --suspend-after 'Scale to zero: stop the tenant after this long without clients or activity (e.g. 15m); the next client wakes it'
            cand --pg-setting 'A PostgreSQL setting for this tenant, over the ones pgs derives from --memory (repeatable), e.g. --pg-setting max_connections=200'
            cand --timeout 'Seconds to wait for the clone to accept connections'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --no-access 'Create the tenant with access disabled'
            cand --egress 'Let the tenant''s PostgreSQL connect out (postgres_fdw, dblink): its container joins Docker''s default bridge. Without it the container has no network (nothing connects in either way: clients come through the gateway)'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;swarm'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Make the Docker engine pgs uses a swarm manager (or adopt the swarm it manages); this host becomes node "local", where the state dir stays'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;swarm;init'= {
            cand --advertise-addr 'The address other hosts reach this one on (default: Docker''s choice, which fails on a host with more than one address)'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;swarm;help'= {
            cand init 'Make the Docker engine pgs uses a swarm manager (or adopt the swarm it manages); this host becomes node "local", where the state dir stays'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;swarm;help;init'= {
        }
        &'pgs;swarm;help;help'= {
        }
        &'pgs;node'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand add 'Adopt another host''s Docker engine as node NAME: it joins the swarm (unless it is in it) and gets the tenant image'
            cand list 'List the nodes: state in the swarm, tenants, memory'
            cand remove 'Remove a node without tenants: it leaves the swarm'
            cand sync 'Bring the gateways of one node or every node up to date now: their files, and their binary (replaced without refusing a connection)'
            cand drain 'Switch every HA primary on the node over to its standby (before a reboot); lists the tenants without HA that stay there'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;node;add'= {
            cand --docker-host 'The node''s Docker API: unix:///PATH, or tcp://HOST:PORT over a private link'
            cand --address 'The address the node advertises to the swarm (default: Docker''s choice)'
            cand --data-dir 'The node''s dir on its host, for its tenants'' sockets and its gateway''s state (default: /var/lib/pgs/INSTANCE/NAME)'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;node;list'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;node;remove'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;node;sync'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;node;drain'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;node;help'= {
            cand add 'Adopt another host''s Docker engine as node NAME: it joins the swarm (unless it is in it) and gets the tenant image'
            cand list 'List the nodes: state in the swarm, tenants, memory'
            cand remove 'Remove a node without tenants: it leaves the swarm'
            cand sync 'Bring the gateways of one node or every node up to date now: their files, and their binary (replaced without refusing a connection)'
            cand drain 'Switch every HA primary on the node over to its standby (before a reboot); lists the tenants without HA that stay there'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;node;help;add'= {
        }
        &'pgs;node;help;list'= {
        }
        &'pgs;node;help;remove'= {
        }
        &'pgs;node;help;sync'= {
        }
        &'pgs;node;help;drain'= {
        }
        &'pgs;node;help;help'= {
        }
        &'pgs;move'= {
            cand --to 'The node to move it to (`local` is this host)'
            cand --timeout 'Seconds to wait for the database on the new node to accept connections'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --keep-source 'Keep the data volume on the old node (removed by default once the new copy answers)'
            cand -y 'Do not ask for confirmation of the downtime'
            cand --yes 'Do not ask for confirmation of the downtime'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;ha'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Start the store (an etcd member on every node, three or more) and the agent on every node'
            cand enable 'Give an existing tenant a synchronous standby on another node (streamed from the running primary)'
            cand disable 'Remove a tenant''s standby; the primary stays where it runs (its node becomes the tenant''s)'
            cand status 'Primary, standby, replication, sync state, lag, epoch and last failover of each HA tenant'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;ha;init'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;ha;enable'= {
            cand --standby-node 'The node of the standby (default: the ready node with the most memory free)'
            cand --durability 'required: a commit returns once the standby has it (only a synchronous standby is promoted); preferred: synchronous while the standby is there, else asynchronous (not promoted when over 1 MiB behind)'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;ha;disable'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;ha;status'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;ha;help'= {
            cand init 'Start the store (an etcd member on every node, three or more) and the agent on every node'
            cand enable 'Give an existing tenant a synchronous standby on another node (streamed from the running primary)'
            cand disable 'Remove a tenant''s standby; the primary stays where it runs (its node becomes the tenant''s)'
            cand status 'Primary, standby, replication, sync state, lag, epoch and last failover of each HA tenant'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;ha;help;init'= {
        }
        &'pgs;ha;help;enable'= {
        }
        &'pgs;ha;help;disable'= {
        }
        &'pgs;ha;help;status'= {
        }
        &'pgs;ha;help;help'= {
        }
        &'pgs;switchover'= {
            cand --to 'The node to switch to: the standby''s (the only choice, checked)'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;agent'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run the agent of one node in the foreground'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;agent;run'= {
            cand --node 'The node this agent runs on'
            cand --log-format 'Log format'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;agent;help'= {
            cand run 'Run the agent of one node in the foreground'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;agent;help;run'= {
        }
        &'pgs;agent;help;help'= {
        }
        &'pgs;api'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Serve the HTTP API in the foreground until SIGINT/SIGTERM (HTTP on loopback, HTTPS elsewhere)'
            cand openapi 'Print the API''s OpenAPI document (also served at /v1/openapi.json)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;api;run'= {
            cand --listen 'Address to listen on: plain HTTP on loopback, TLS with the platform certificate on any other'
            cand --log-format 'Log format'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;api;openapi'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;api;help'= {
            cand run 'Serve the HTTP API in the foreground until SIGINT/SIGTERM (HTTP on loopback, HTTPS elsewhere)'
            cand openapi 'Print the API''s OpenAPI document (also served at /v1/openapi.json)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;api;help;run'= {
        }
        &'pgs;api;help;openapi'= {
        }
        &'pgs;api;help;help'= {
        }
        &'pgs;token'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Make a token (printed once; only its hash is kept)'
            cand list 'List the tokens (names and access, never the tokens)'
            cand revoke 'Revoke a token: it stops working at once'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;token;create'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --read-only 'It may read but not change anything'
            cand --json 'Print JSON'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;token;list'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;token;revoke'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;token;help'= {
            cand create 'Make a token (printed once; only its hash is kept)'
            cand list 'List the tokens (names and access, never the tokens)'
            cand revoke 'Revoke a token: it stops working at once'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;token;help;create'= {
        }
        &'pgs;token;help;list'= {
        }
        &'pgs;token;help;revoke'= {
        }
        &'pgs;token;help;help'= {
        }
        &'pgs;completions'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;help'= {
            cand setup 'Create or update the configuration: state dir, domain, certificate choice'
            cand create 'Create a tenant: container, volume, network and credentials'
            cand list 'List tenants with their hostname, status and access'
            cand info 'Show a tenant''s connection details'
            cand start 'Start a tenant, or every tenant'
            cand stop 'Stop a tenant, or every tenant'
            cand recreate 'Recreate a tenant''s container, or every tenant''s one at a time, on the same data (after an upgrade of pgs: no healthcheck process, sockets, settings); each restarts'
            cand remove 'Remove a tenant (keeps its data volume unless --purge)'
            cand prune-volumes 'Delete a tenant''s data volumes that it does not run on (what restores left; `pgs info` lists them)'
            cand enable-access 'Let the gateway admit a tenant''s clients'
            cand disable-access 'Refuse a tenant''s clients at the gateway'
            cand allow 'Add client networks (CIDR) to a tenant''s allowlist (an empty list admits everyone)'
            cand deny 'Remove client networks (CIDR) from a tenant''s allowlist'
            cand suspend-policy 'Scale to zero: suspend a tenant after a time without clients (--after), or never (--never)'
            cand suspend 'Suspend a tenant now (stopped until its next client wakes it)'
            cand pool 'Show or change the pooled endpoint TENANT-pooler (applies while the gateway runs)'
            cand controller 'The controller: suspends idle tenants and wakes them for the gateway (the managed gateway''s `pgs-controller` container runs it; `pgs gateway run` runs one inside)'
            cand gateway 'The gateway: one TLS port for every tenant'
            cand certs 'Certificates for the gateway'
            cand backup 'Backups (pgBackRest): turn them on, take one, list them'
            cand restore 'Restore a tenant to a point in time, its latest state or a backup (keeps the current data)'
            cand clone 'Create a tenant from another tenant''s backups (its latest state, or --at / --backup); the source keeps running'
            cand swarm 'More than one host: make this host''s engine a Docker Swarm manager and the first pgs node'
            cand node 'The hosts of a swarm: add one, list them, remove one'
            cand move 'Move a tenant to another node of the swarm with its data (states the downtime first)'
            cand ha 'High availability: the store, a synchronous standby per tenant, its status'
            cand switchover 'Make an HA tenant''s standby its primary, planned (maintenance); the old primary rejoins as standby'
            cand agent 'The per-node agent of high availability (run by `pgs ha init` in the container pgs-agent)'
            cand api 'The HTTP API: a second front end over the same verbs (`pgs api run`)'
            cand token 'Bearer tokens of the HTTP API: make one, list them, revoke one'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;help;setup'= {
        }
        &'pgs;help;create'= {
        }
        &'pgs;help;list'= {
        }
        &'pgs;help;info'= {
        }
        &'pgs;help;start'= {
        }
        &'pgs;help;stop'= {
        }
        &'pgs;help;recreate'= {
        }
        &'pgs;help;remove'= {
        }
        &'pgs;help;prune-volumes'= {
        }
        &'pgs;help;enable-access'= {
        }
        &'pgs;help;disable-access'= {
        }
        &'pgs;help;allow'= {
        }
        &'pgs;help;deny'= {
        }
        &'pgs;help;suspend-policy'= {
        }
        &'pgs;help;suspend'= {
        }
        &'pgs;help;pool'= {
        }
        &'pgs;help;controller'= {
            cand run 'Run the controller in the foreground'
        }
        &'pgs;help;controller;run'= {
        }
        &'pgs;help;gateway'= {
            cand run 'Run the gateway in the foreground until SIGINT/SIGTERM'
            cand start 'Start the managed gateway container (pgs-gateway), building its image from this binary; a running gateway of another pgs version is replaced without refusing a connection'
            cand stop 'Stop the managed gateway container (open sessions drain first)'
            cand restart 'Replace the managed gateway container by a new one without refusing a connection'
            cand status 'Show the managed gateway''s health, version, uptime and open sessions'
            cand logs 'Print the managed gateway''s log'
        }
        &'pgs;help;gateway;run'= {
        }
        &'pgs;help;gateway;start'= {
        }
        &'pgs;help;gateway;stop'= {
        }
        &'pgs;help;gateway;restart'= {
        }
        &'pgs;help;gateway;status'= {
        }
        &'pgs;help;gateway;logs'= {
        }
        &'pgs;help;certs'= {
            cand issue 'Obtain a certificate for *.DOMAIN and DOMAIN from an ACME CA through DNS-01'
            cand renew 'Renew the ACME certificate if it is due (safe to run from cron or a timer)'
            cand self-signed 'Issue a wildcard certificate for *.DOMAIN and DOMAIN from a local CA in the state dir'
            cand import 'Install a certificate chain and key you already have (PEM files)'
            cand status 'Show the installed certificate: names, issuer, validity, renewal date, files'
        }
        &'pgs;help;certs;issue'= {
        }
        &'pgs;help;certs;renew'= {
        }
        &'pgs;help;certs;self-signed'= {
        }
        &'pgs;help;certs;import'= {
        }
        &'pgs;help;certs;status'= {
        }
        &'pgs;help;backup'= {
            cand enable 'Turn backups on for a tenant created before (or every tenant): restarts it with WAL archiving, then takes a full backup'
            cand run 'Take a backup now'
            cand list 'List a tenant''s backups and archived WAL'
            cand verify 'The restore drill: recover a throwaway copy to a random moment of the restorable window (checked), then to the latest state, check every database, record'
        }
        &'pgs;help;backup;enable'= {
        }
        &'pgs;help;backup;run'= {
        }
        &'pgs;help;backup;list'= {
        }
        &'pgs;help;backup;verify'= {
        }
        &'pgs;help;restore'= {
        }
        &'pgs;help;clone'= {
        }
        &'pgs;help;swarm'= {
            cand init 'Make the Docker engine pgs uses a swarm manager (or adopt the swarm it manages); this host becomes node "local", where the state dir stays'
        }
        &'pgs;help;swarm;init'= {
        }
        &'pgs;help;node'= {
            cand add 'Adopt another host''s Docker engine as node NAME: it joins the swarm (unless it is in it) and gets the tenant image'
            cand list 'List the nodes: state in the swarm, tenants, memory'
            cand remove 'Remove a node without tenants: it leaves the swarm'
            cand sync 'Bring the gateways of one node or every node up to date now: their files, and their binary (replaced without refusing a connection)'
            cand drain 'Switch every HA primary on the node over to its standby (before a reboot); lists the tenants without HA that stay there'
        }
        &'pgs;help;node;add'= {
        }
        &'pgs;help;node;list'= {
        }
        &'pgs;help;node;remove'= {
        }
        &'pgs;help;node;sync'= {
        }
        &'pgs;help;node;drain'= {
        }
        &'pgs;help;move'= {
        }
        &'pgs;help;ha'= {
            cand init 'Start the store (an etcd member on every node, three or more) and the agent on every node'
            cand enable 'Give an existing tenant a synchronous standby on another node (streamed from the running primary)'
            cand disable 'Remove a tenant''s standby; the primary stays where it runs (its node becomes the tenant''s)'
            cand status 'Primary, standby, replication, sync state, lag, epoch and last failover of each HA tenant'
        }
        &'pgs;help;ha;init'= {
        }
        &'pgs;help;ha;enable'= {
        }
        &'pgs;help;ha;disable'= {
        }
        &'pgs;help;ha;status'= {
        }
        &'pgs;help;switchover'= {
        }
        &'pgs;help;agent'= {
            cand run 'Run the agent of one node in the foreground'
        }
        &'pgs;help;agent;run'= {
        }
        &'pgs;help;api'= {
            cand run 'Serve the HTTP API in the foreground until SIGINT/SIGTERM (HTTP on loopback, HTTPS elsewhere)'
            cand openapi 'Print the API''s OpenAPI document (also served at /v1/openapi.json)'
        }
        &'pgs;help;api;run'= {
        }
        &'pgs;help;api;openapi'= {
        }
        &'pgs;help;token'= {
            cand create 'Make a token (printed once; only its hash is kept)'
            cand list 'List the tokens (names and access, never the tokens)'
            cand revoke 'Revoke a token: it stops working at once'
        }
        &'pgs;help;token;create'= {
        }
        &'pgs;help;token;list'= {
        }
        &'pgs;help;token;revoke'= {
        }
        &'pgs;help;completions'= {
        }
        &'pgs;help;help'= {
        }
    ]
    $completions[$command]
}
