# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pgs_global_optspecs
    string join \n home= h/help V/version
end

function __fish_pgs_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pgs_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pgs_using_subcommand
    set -l cmd (__fish_pgs_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pgs -n "__fish_pgs_needs_command" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_needs_command" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_needs_command" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "setup" -d 'Create or update the configuration: state dir, domain, certificate choice'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "create" -d 'Create a tenant: container, volume, network and credentials'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "list" -d 'List tenants with their hostname, status and access'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "info" -d 'Show a tenant\'s connection details'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "start" -d 'Start a tenant, or every tenant'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "stop" -d 'Stop a tenant, or every tenant'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "recreate" -d 'Recreate a tenant\'s container, or every tenant\'s one at a time, on the same data (after an upgrade of pgs: no healthcheck process, sockets, settings); each restarts'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "remove" -d 'Remove a tenant (keeps its data volume unless --purge)'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "prune-volumes" -d 'Delete a tenant\'s data volumes that it does not run on (what restores left; `pgs info` lists them)'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "enable-access" -d 'Let the gateway admit a tenant\'s clients'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "disable-access" -d 'Refuse a tenant\'s clients at the gateway'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "allow" -d 'Add client networks (CIDR) to a tenant\'s allowlist (an empty list admits everyone)'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "deny" -d 'Remove client networks (CIDR) from a tenant\'s allowlist'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "suspend-policy" -d 'Scale to zero: suspend a tenant after a time without clients (--after), or never (--never)'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "suspend" -d 'Suspend a tenant now (stopped until its next client wakes it)'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "pool" -d 'Show or change the pooled endpoint TENANT-pooler (applies while the gateway runs)'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "controller" -d 'The controller: suspends idle tenants and wakes them for the gateway (the managed gateway\'s `pgs-controller` container runs it; `pgs gateway run` runs one inside)'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "gateway" -d 'The gateway: one TLS port for every tenant'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "certs" -d 'Certificates for the gateway'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "backup" -d 'Backups (pgBackRest): turn them on, take one, list them'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "restore" -d 'Restore a tenant to a point in time, its latest state or a backup (keeps the current data)'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "clone" -d 'Create a tenant from another tenant\'s backups (its latest state, or --at / --backup); the source keeps running'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "swarm" -d 'More than one host: make this host\'s engine a Docker Swarm manager and the first pgs node'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "node" -d 'The hosts of a swarm: add one, list them, remove one'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "move" -d 'Move a tenant to another node of the swarm with its data (states the downtime first)'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "ha" -d 'High availability: the store, a synchronous standby per tenant, its status'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "switchover" -d 'Make an HA tenant\'s standby its primary, planned (maintenance); the old primary rejoins as standby'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "agent" -d 'The per-node agent of high availability (run by `pgs ha init` in the container pgs-agent)'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "api" -d 'The HTTP API: a second front end over the same verbs (`pgs api run`)'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "token" -d 'Bearer tokens of the HTTP API: make one, list them, revoke one'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c pgs -n "__fish_pgs_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand setup" -l domain -d 'Public domain; tenants are reached as TENANT.DOMAIN' -r
complete -c pgs -n "__fish_pgs_using_subcommand setup" -l image -d 'Default PostgreSQL image for new tenants' -r
complete -c pgs -n "__fish_pgs_using_subcommand setup" -l gateway-port -d 'Port the gateway listens on' -r
complete -c pgs -n "__fish_pgs_using_subcommand setup" -l health-port -d 'Port (on 127.0.0.1) of the managed gateway\'s /health, /ready and /metrics' -r
complete -c pgs -n "__fish_pgs_using_subcommand setup" -l backups -d 'Back up tenants (pgBackRest): `local` keeps each tenant\'s repository in a volume of its own; new tenants archive WAL from the start' -r -f -a "local\t'A Docker volume per tenant on this host (`pgs-TENANT-backup`)'
s3\t'An S3-compatible object store, encrypted (one path per tenant in one bucket)'"
complete -c pgs -n "__fish_pgs_using_subcommand setup" -l s3-endpoint -d 'With --backups s3: the endpoint as tenant containers reach it, HOST or HOST:PORT (keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)' -r
complete -c pgs -n "__fish_pgs_using_subcommand setup" -l s3-bucket -d 'With --backups s3: the bucket (each tenant gets a path of its own in it)' -r
complete -c pgs -n "__fish_pgs_using_subcommand setup" -l s3-region -d 'With --backups s3: the region' -r
complete -c pgs -n "__fish_pgs_using_subcommand setup" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand setup" -l self-signed -d 'Use a local CA and a self-signed wildcard certificate (development, tests)'
complete -c pgs -n "__fish_pgs_using_subcommand setup" -l no-gateway -d 'Do not start the managed gateway (e.g. to run `pgs gateway run` under systemd instead)'
complete -c pgs -n "__fish_pgs_using_subcommand setup" -l s3-path-style -d 'With --backups s3: path-style URLs (most self-hosted stores)'
complete -c pgs -n "__fish_pgs_using_subcommand setup" -l s3-no-verify-tls -d 'With --backups s3: do not verify the endpoint\'s TLS certificate (test setups only)'
complete -c pgs -n "__fish_pgs_using_subcommand setup" -s y -l yes -d 'Never prompt; take defaults for what is not given'
complete -c pgs -n "__fish_pgs_using_subcommand setup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pgs -n "__fish_pgs_using_subcommand setup" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand create" -l image -d 'PostgreSQL image (default: the one chosen at setup)' -r
complete -c pgs -n "__fish_pgs_using_subcommand create" -l password -d 'Password for the tenant\'s role (default: generated)' -r
complete -c pgs -n "__fish_pgs_using_subcommand create" -l memory -d 'Memory limit, e.g. 512m or 2g' -r
complete -c pgs -n "__fish_pgs_using_subcommand create" -l cpus -d 'CPU limit, e.g. 1.5' -r
complete -c pgs -n "__fish_pgs_using_subcommand create" -l suspend-after -d 'Scale to zero: stop the tenant after this long without clients or activity (e.g. 15m); the next client wakes it' -r
complete -c pgs -n "__fish_pgs_using_subcommand create" -l pg-setting -d 'A PostgreSQL setting for this tenant, over the ones pgs derives from --memory (repeatable), e.g. --pg-setting max_connections=200' -r
complete -c pgs -n "__fish_pgs_using_subcommand create" -l standby-node -d 'The node of the standby (default: the ready node with the most memory free)' -r
complete -c pgs -n "__fish_pgs_using_subcommand create" -l durability -d 'required: a commit returns once the standby has it (only a synchronous standby is promoted); preferred: synchronous while the standby is there, else asynchronous (not promoted when over 1 MiB behind)' -r -f -a "required\t'A commit returns only once the standby has it; without the standby, commits wait. Only a standby that was synchronous is ever promoted'
preferred\t'Synchronous while the standby is there, asynchronous while it is not; a standby more than [`PREFERRED_LAG_CAP`] behind is not promoted'"
complete -c pgs -n "__fish_pgs_using_subcommand create" -l node -d 'The node to make it on, with a swarm (default: the one with the most memory free)' -r
complete -c pgs -n "__fish_pgs_using_subcommand create" -l timeout -d 'Seconds to wait for the database to accept connections' -r
complete -c pgs -n "__fish_pgs_using_subcommand create" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand create" -l no-access -d 'Create the tenant with access disabled'
complete -c pgs -n "__fish_pgs_using_subcommand create" -l egress -d 'Let the tenant\'s PostgreSQL connect out (postgres_fdw, dblink): its container joins Docker\'s default bridge. Without it the container has no network (nothing connects in either way: clients come through the gateway)'
complete -c pgs -n "__fish_pgs_using_subcommand create" -l adopt -d 'Reuse the data volume a `pgs remove` without --purge left behind'
complete -c pgs -n "__fish_pgs_using_subcommand create" -l ha -d 'Give it a synchronous standby on another node (high availability; `pgs ha init` first)'
complete -c pgs -n "__fish_pgs_using_subcommand create" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pgs -n "__fish_pgs_using_subcommand create" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand list" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand list" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand list" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand list" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand info" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand info" -l show-password -d 'Include the password and a full connection URL'
complete -c pgs -n "__fish_pgs_using_subcommand info" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand info" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand info" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand start" -l timeout -d 'Seconds to wait for each database to accept connections' -r
complete -c pgs -n "__fish_pgs_using_subcommand start" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand start" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand start" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand stop" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand stop" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand stop" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand recreate" -l timeout -d 'Seconds to wait for each database to accept connections' -r
complete -c pgs -n "__fish_pgs_using_subcommand recreate" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand recreate" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand recreate" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand remove" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand remove" -s y -l yes -d 'Do not ask for confirmation'
complete -c pgs -n "__fish_pgs_using_subcommand remove" -l purge -d 'Also delete the data volume and the stored passwords (irreversible); backups are kept'
complete -c pgs -n "__fish_pgs_using_subcommand remove" -l purge-backups -d 'With --purge, also delete the tenant\'s backups (irreversible)'
complete -c pgs -n "__fish_pgs_using_subcommand remove" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand remove" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand prune-volumes" -l volume -d 'Only this volume (default: every data volume of the tenant but the one in use)' -r
complete -c pgs -n "__fish_pgs_using_subcommand prune-volumes" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand prune-volumes" -s y -l yes -d 'Do not ask for confirmation'
complete -c pgs -n "__fish_pgs_using_subcommand prune-volumes" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand prune-volumes" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand prune-volumes" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand enable-access" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand enable-access" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand enable-access" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand disable-access" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand disable-access" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand disable-access" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand allow" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand allow" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand allow" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand deny" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand deny" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand deny" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand suspend-policy" -l after -d 'Suspend after this long without clients or activity, e.g. 15m' -r
complete -c pgs -n "__fish_pgs_using_subcommand suspend-policy" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand suspend-policy" -l never -d 'Never suspend the tenant'
complete -c pgs -n "__fish_pgs_using_subcommand suspend-policy" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand suspend-policy" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand suspend" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand suspend" -l force -d 'Suspend even with client sessions open (they are closed)'
complete -c pgs -n "__fish_pgs_using_subcommand suspend" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand suspend" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand pool" -l mode -d 'Transaction pooling (a server connection per transaction), session pooling, or auto (per transaction, kept for a client while it holds session state such as LISTEN)' -r -f -a "transaction\t'A server connection per transaction: many clients share few connections'
session\t'A server connection per client for its whole session, reset before the next client'
auto\t'A server connection per transaction, kept for a client while it holds session state (LISTEN, a session advisory lock, SET ROLE, a WITH HOLD cursor, a temporary table, SQL PREPARE): what transaction mode refuses works, and other clients still share'"
complete -c pgs -n "__fish_pgs_using_subcommand pool" -l size -d 'Server connections per role and database' -r
complete -c pgs -n "__fish_pgs_using_subcommand pool" -l max-clients -d 'Pooled clients at once for the tenant' -r
complete -c pgs -n "__fish_pgs_using_subcommand pool" -l queue-timeout -d 'Seconds a client waits for a server connection before it is refused (53300)' -r
complete -c pgs -n "__fish_pgs_using_subcommand pool" -l server-idle-timeout -d 'Seconds an unused server connection is kept' -r
complete -c pgs -n "__fish_pgs_using_subcommand pool" -l reserve -d 'In auto mode, server connections per role and database that clients holding session state (LISTEN, SET ROLE, ...) may keep for themselves [default: half of --size]' -r
complete -c pgs -n "__fish_pgs_using_subcommand pool" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand pool" -l reset -d 'Back to the settings derived from the tenant\'s memory'
complete -c pgs -n "__fish_pgs_using_subcommand pool" -l json -d 'Print JSON'
complete -c pgs -n "__fish_pgs_using_subcommand pool" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pgs -n "__fish_pgs_using_subcommand pool" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand controller; and not __fish_seen_subcommand_from run help" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand controller; and not __fish_seen_subcommand_from run help" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand controller; and not __fish_seen_subcommand_from run help" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand controller; and not __fish_seen_subcommand_from run help" -f -a "run" -d 'Run the controller in the foreground'
complete -c pgs -n "__fish_pgs_using_subcommand controller; and not __fish_seen_subcommand_from run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand controller; and __fish_seen_subcommand_from run" -l node -d 'The node of a swarm whose dir PGS_HOME is (its `pgs-controller` container): watch that node\'s tenants (pgs starts it there; not for the manager\'s state dir)' -r
complete -c pgs -n "__fish_pgs_using_subcommand controller; and __fish_seen_subcommand_from run" -l wake-timeout -d 'How long a wake may take before the held clients are told to retry' -r
complete -c pgs -n "__fish_pgs_using_subcommand controller; and __fish_seen_subcommand_from run" -l log-format -d 'Log format' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c pgs -n "__fish_pgs_using_subcommand controller; and __fish_seen_subcommand_from run" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand controller; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pgs -n "__fish_pgs_using_subcommand controller; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand controller; and __fish_seen_subcommand_from help" -f -a "run" -d 'Run the controller in the foreground'
complete -c pgs -n "__fish_pgs_using_subcommand controller; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and not __fish_seen_subcommand_from run start stop restart status logs help" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and not __fish_seen_subcommand_from run start stop restart status logs help" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and not __fish_seen_subcommand_from run start stop restart status logs help" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and not __fish_seen_subcommand_from run start stop restart status logs help" -f -a "run" -d 'Run the gateway in the foreground until SIGINT/SIGTERM'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and not __fish_seen_subcommand_from run start stop restart status logs help" -f -a "start" -d 'Start the managed gateway container (pgs-gateway), building its image from this binary; a running gateway of another pgs version is replaced without refusing a connection'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and not __fish_seen_subcommand_from run start stop restart status logs help" -f -a "stop" -d 'Stop the managed gateway container (open sessions drain first)'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and not __fish_seen_subcommand_from run start stop restart status logs help" -f -a "restart" -d 'Replace the managed gateway container by a new one without refusing a connection'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and not __fish_seen_subcommand_from run start stop restart status logs help" -f -a "status" -d 'Show the managed gateway\'s health, version, uptime and open sessions'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and not __fish_seen_subcommand_from run start stop restart status logs help" -f -a "logs" -d 'Print the managed gateway\'s log'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and not __fish_seen_subcommand_from run start stop restart status logs help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from run" -l listen -d 'Address to listen on (default: 0.0.0.0 and the gateway port from the config)' -r
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from run" -l health-listen -d 'Address of /health, /ready and /metrics' -r
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from run" -l log-format -d 'Log format' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from run" -l handshake-timeout -d 'Seconds a client has to complete TLS and startup' -r
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from run" -l max-connections -d 'Connections open at once, over all tenants' -r
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from run" -l max-connections-per-tenant -d 'Sessions open at once per tenant' -r
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from run" -l drain-timeout -d 'Seconds open sessions may finish after SIGTERM (then they end with SQLSTATE 57P01)' -r
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from run" -l takeover-drain -d 'When this gateway takes over from a running one: how long that one may serve its open sessions (then they end with SQLSTATE 57P01)' -r
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from run" -l bind-retry -d 'How long to retry binding the client port while another process holds it (default: fail at once)' -r
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from run" -l backend -d 'Which tenant address to dial' -r -f -a "auto\t'The tenant\'s Unix socket, then its address on its network, then the loopback port'
socket\t'The tenant\'s Unix socket only (in the state dir; tenants created by pgs 0.1 have none)'
address\t'The container\'s address on its network (the host routes to it directly)'
loopback\t'The port published on 127.0.0.1 (through Docker\'s port forwarding; slower)'
container\t'The Unix socket, then the container\'s name, then its address (for a gateway attached to the tenants\' networks)'"
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from run" -l wake-timeout -d 'How long a client of a suspended tenant is held while it starts (then SQLSTATE 57P03)' -r
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from run" -l serve-threads -d 'Threads serving sessions, each a single-threaded runtime that keeps its sessions (default: half the cores, at least one); 0 serves them on the shared work-stealing runtime instead' -r
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from run" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from run" -l allow-plaintext -d 'Accept clients without TLS (only on private networks)'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from run" -l keep-sessions-on-revoke -d 'Keep open sessions when a tenant is disabled, stopped or removed'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from run" -l no-controller -d 'Do not run the controller (which suspends idle tenants and wakes them) in this process'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from start" -l drain -d 'How long a replaced gateway may serve its open sessions (then they end with SQLSTATE 57P01, "the gateway is restarting, reconnect")' -r
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from start" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from start" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from stop" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from stop" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from stop" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from restart" -l drain -d 'How long a replaced gateway may serve its open sessions (then they end with SQLSTATE 57P01, "the gateway is restarting, reconnect")' -r
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from restart" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from restart" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from restart" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from status" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from status" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from logs" -l tail -d 'Lines from the end to start with ("all" for everything)' -r
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from logs" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from logs" -s f -l follow -d 'Keep printing new lines'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from logs" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from logs" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from help" -f -a "run" -d 'Run the gateway in the foreground until SIGINT/SIGTERM'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from help" -f -a "start" -d 'Start the managed gateway container (pgs-gateway), building its image from this binary; a running gateway of another pgs version is replaced without refusing a connection'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from help" -f -a "stop" -d 'Stop the managed gateway container (open sessions drain first)'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from help" -f -a "restart" -d 'Replace the managed gateway container by a new one without refusing a connection'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show the managed gateway\'s health, version, uptime and open sessions'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from help" -f -a "logs" -d 'Print the managed gateway\'s log'
complete -c pgs -n "__fish_pgs_using_subcommand gateway; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and not __fish_seen_subcommand_from issue renew self-signed import status help" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand certs; and not __fish_seen_subcommand_from issue renew self-signed import status help" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and not __fish_seen_subcommand_from issue renew self-signed import status help" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and not __fish_seen_subcommand_from issue renew self-signed import status help" -f -a "issue" -d 'Obtain a certificate for *.DOMAIN and DOMAIN from an ACME CA through DNS-01'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and not __fish_seen_subcommand_from issue renew self-signed import status help" -f -a "renew" -d 'Renew the ACME certificate if it is due (safe to run from cron or a timer)'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and not __fish_seen_subcommand_from issue renew self-signed import status help" -f -a "self-signed" -d 'Issue a wildcard certificate for *.DOMAIN and DOMAIN from a local CA in the state dir'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and not __fish_seen_subcommand_from issue renew self-signed import status help" -f -a "import" -d 'Install a certificate chain and key you already have (PEM files)'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and not __fish_seen_subcommand_from issue renew self-signed import status help" -f -a "status" -d 'Show the installed certificate: names, issuer, validity, renewal date, files'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and not __fish_seen_subcommand_from issue renew self-signed import status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from issue" -l ca -d 'ACME CA: letsencrypt, letsencrypt-staging, zerossl, or a directory URL' -r
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from issue" -l email -d 'Contact address for the CA\'s expiry and policy notices' -r
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from issue" -l eab-kid -d 'External account binding key id (ZeroSSL and CAs that require EAB)' -r
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from issue" -l eab-hmac -d 'External account binding HMAC key, base64url (better: env PGS_EAB_HMAC)' -r
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from issue" -l ca-root -d 'Extra root certificate (PEM) to trust for the ACME server\'s own HTTPS (test CAs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from issue" -l dns -d 'How to publish the DNS-01 TXT records' -r -f -a "rfc2136\t'TSIG-signed dynamic updates (BIND, Knot, PowerDNS, ...)'
cloudflare\t'Cloudflare\'s API (token in env CLOUDFLARE_API_TOKEN)'
exec\t'A program of yours (lego\'s exec contract)'
manual\t'Print the records and wait for Enter (terminal only)'"
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from issue" -l dns-server -d 'rfc2136: the name server that takes dynamic updates' -r
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from issue" -l dns-zone -d 'rfc2136: the zone to update (default: found with an SOA query)' -r
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from issue" -l tsig-key-name -d 'rfc2136: TSIG key name (default: the name in the key file)' -r
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from issue" -l tsig-algorithm -d 'rfc2136: TSIG algorithm (default: the key file\'s, else hmac-sha256)' -r
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from issue" -l tsig-secret-file -d 'rfc2136: file with the TSIG secret (base64, or `tsig-keygen` output); or env PGS_TSIG_SECRET' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from issue" -l dns-exec -d 'exec: program run as `PROGRAM present|cleanup FQDN VALUE`' -r
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from issue" -l propagation-resolver -d 'Name server asked whether the records are visible (default: the rfc2136 server, else the zone\'s authoritative servers)' -r
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from issue" -l propagation-timeout -d 'Seconds to wait for the records to become visible' -r
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from issue" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from issue" -s y -l yes -d 'Agree to the CA\'s terms of service without asking'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from issue" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from issue" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from renew" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from renew" -l force -d 'Renew even if the certificate is not due'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from renew" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from renew" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from renew" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from self-signed" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from self-signed" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from self-signed" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from import" -l cert -d 'Certificate chain (PEM, leaf first) covering *.DOMAIN and DOMAIN' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from import" -l key -d 'Its private key (PEM)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from import" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from status" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from status" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from help" -f -a "issue" -d 'Obtain a certificate for *.DOMAIN and DOMAIN from an ACME CA through DNS-01'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from help" -f -a "renew" -d 'Renew the ACME certificate if it is due (safe to run from cron or a timer)'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from help" -f -a "self-signed" -d 'Issue a wildcard certificate for *.DOMAIN and DOMAIN from a local CA in the state dir'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from help" -f -a "import" -d 'Install a certificate chain and key you already have (PEM files)'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show the installed certificate: names, issuer, validity, renewal date, files'
complete -c pgs -n "__fish_pgs_using_subcommand certs; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and not __fish_seen_subcommand_from enable run list verify help" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand backup; and not __fish_seen_subcommand_from enable run list verify help" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and not __fish_seen_subcommand_from enable run list verify help" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and not __fish_seen_subcommand_from enable run list verify help" -f -a "enable" -d 'Turn backups on for a tenant created before (or every tenant): restarts it with WAL archiving, then takes a full backup'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and not __fish_seen_subcommand_from enable run list verify help" -f -a "run" -d 'Take a backup now'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and not __fish_seen_subcommand_from enable run list verify help" -f -a "list" -d 'List a tenant\'s backups and archived WAL'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and not __fish_seen_subcommand_from enable run list verify help" -f -a "verify" -d 'The restore drill: recover a throwaway copy to a random moment of the restorable window (checked), then to the latest state, check every database, record'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and not __fish_seen_subcommand_from enable run list verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from enable" -l timeout -d 'Seconds to wait for each database to accept connections after the restart' -r
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from enable" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from enable" -l all -d 'Every tenant that has no backups yet'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from enable" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from enable" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from run" -l type -d 'What to copy: everything, or the changes since the last full (diff) or last backup (incr)' -r -f -a "full\t'Everything'
diff\t'What changed since the last full backup'
incr\t'What changed since the last backup of any kind'"
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from run" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from run" -l due -d 'Every tenant with backups whose backup is due: full weekly, diff daily (for a timer)'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from run" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from list" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from verify" -l at -d 'The moment to recover to first (default: a random one of the restorable window)' -r
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from verify" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from verify" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "enable" -d 'Turn backups on for a tenant created before (or every tenant): restarts it with WAL archiving, then takes a full backup'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "run" -d 'Take a backup now'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "list" -d 'List a tenant\'s backups and archived WAL'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "verify" -d 'The restore drill: recover a throwaway copy to a random moment of the restorable window (checked), then to the latest state, check every database, record'
complete -c pgs -n "__fish_pgs_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand restore" -l at -d 'Recover everything committed before this time (RFC 3339, e.g. 2026-11-26T21:00:00Z)' -r
complete -c pgs -n "__fish_pgs_using_subcommand restore" -l backup -d 'Recover to the end of one backup (a label from `pgs backup list`)' -r
complete -c pgs -n "__fish_pgs_using_subcommand restore" -l timeout -d 'Seconds to wait for the restored database to accept connections' -r
complete -c pgs -n "__fish_pgs_using_subcommand restore" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand restore" -l latest -d 'Recover everything archived (the newest state)'
complete -c pgs -n "__fish_pgs_using_subcommand restore" -s y -l yes -d 'Do not ask for confirmation'
complete -c pgs -n "__fish_pgs_using_subcommand restore" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand restore" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand restore" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand clone" -l at -d 'Copy the source as it was at this time (RFC 3339), not its latest state' -r
complete -c pgs -n "__fish_pgs_using_subcommand clone" -l backup -d 'Copy the source as of one backup (a label from `pgs backup list`)' -r
complete -c pgs -n "__fish_pgs_using_subcommand clone" -l password -d 'Password for the tenant\'s role (default: generated)' -r
complete -c pgs -n "__fish_pgs_using_subcommand clone" -l memory -d 'Memory limit, e.g. 512m or 2g' -r
complete -c pgs -n "__fish_pgs_using_subcommand clone" -l cpus -d 'CPU limit, e.g. 1.5' -r
complete -c pgs -n "__fish_pgs_using_subcommand clone" -l suspend-after -d 'Scale to zero: stop the tenant after this long without clients or activity (e.g. 15m); the next client wakes it' -r
complete -c pgs -n "__fish_pgs_using_subcommand clone" -l pg-setting -d 'A PostgreSQL setting for this tenant, over the ones pgs derives from --memory (repeatable), e.g. --pg-setting max_connections=200' -r
complete -c pgs -n "__fish_pgs_using_subcommand clone" -l timeout -d 'Seconds to wait for the clone to accept connections' -r
complete -c pgs -n "__fish_pgs_using_subcommand clone" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand clone" -l no-access -d 'Create the tenant with access disabled'
complete -c pgs -n "__fish_pgs_using_subcommand clone" -l egress -d 'Let the tenant\'s PostgreSQL connect out (postgres_fdw, dblink): its container joins Docker\'s default bridge. Without it the container has no network (nothing connects in either way: clients come through the gateway)'
complete -c pgs -n "__fish_pgs_using_subcommand clone" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand clone" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand clone" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand swarm; and not __fish_seen_subcommand_from init help" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand swarm; and not __fish_seen_subcommand_from init help" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand swarm; and not __fish_seen_subcommand_from init help" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand swarm; and not __fish_seen_subcommand_from init help" -f -a "init" -d 'Make the Docker engine pgs uses a swarm manager (or adopt the swarm it manages); this host becomes node "local", where the state dir stays'
complete -c pgs -n "__fish_pgs_using_subcommand swarm; and not __fish_seen_subcommand_from init help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand swarm; and __fish_seen_subcommand_from init" -l advertise-addr -d 'The address other hosts reach this one on (default: Docker\'s choice, which fails on a host with more than one address)' -r
complete -c pgs -n "__fish_pgs_using_subcommand swarm; and __fish_seen_subcommand_from init" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand swarm; and __fish_seen_subcommand_from init" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand swarm; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand swarm; and __fish_seen_subcommand_from init" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand swarm; and __fish_seen_subcommand_from help" -f -a "init" -d 'Make the Docker engine pgs uses a swarm manager (or adopt the swarm it manages); this host becomes node "local", where the state dir stays'
complete -c pgs -n "__fish_pgs_using_subcommand swarm; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand node; and not __fish_seen_subcommand_from add list remove sync drain help" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand node; and not __fish_seen_subcommand_from add list remove sync drain help" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand node; and not __fish_seen_subcommand_from add list remove sync drain help" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand node; and not __fish_seen_subcommand_from add list remove sync drain help" -f -a "add" -d 'Adopt another host\'s Docker engine as node NAME: it joins the swarm (unless it is in it) and gets the tenant image'
complete -c pgs -n "__fish_pgs_using_subcommand node; and not __fish_seen_subcommand_from add list remove sync drain help" -f -a "list" -d 'List the nodes: state in the swarm, tenants, memory'
complete -c pgs -n "__fish_pgs_using_subcommand node; and not __fish_seen_subcommand_from add list remove sync drain help" -f -a "remove" -d 'Remove a node without tenants: it leaves the swarm'
complete -c pgs -n "__fish_pgs_using_subcommand node; and not __fish_seen_subcommand_from add list remove sync drain help" -f -a "sync" -d 'Bring the gateways of one node or every node up to date now: their files, and their binary (replaced without refusing a connection)'
complete -c pgs -n "__fish_pgs_using_subcommand node; and not __fish_seen_subcommand_from add list remove sync drain help" -f -a "drain" -d 'Switch every HA primary on the node over to its standby (before a reboot); lists the tenants without HA that stay there'
complete -c pgs -n "__fish_pgs_using_subcommand node; and not __fish_seen_subcommand_from add list remove sync drain help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from add" -l docker-host -d 'The node\'s Docker API: unix:///PATH, or tcp://HOST:PORT over a private link' -r
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from add" -l address -d 'The address the node advertises to the swarm (default: Docker\'s choice)' -r
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from add" -l data-dir -d 'The node\'s dir on its host, for its tenants\' sockets and its gateway\'s state (default: /var/lib/pgs/INSTANCE/NAME)' -r
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from add" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from add" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from list" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from remove" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from sync" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from sync" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from sync" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from drain" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from drain" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from drain" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from drain" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from help" -f -a "add" -d 'Adopt another host\'s Docker engine as node NAME: it joins the swarm (unless it is in it) and gets the tenant image'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the nodes: state in the swarm, tenants, memory'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a node without tenants: it leaves the swarm'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from help" -f -a "sync" -d 'Bring the gateways of one node or every node up to date now: their files, and their binary (replaced without refusing a connection)'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from help" -f -a "drain" -d 'Switch every HA primary on the node over to its standby (before a reboot); lists the tenants without HA that stay there'
complete -c pgs -n "__fish_pgs_using_subcommand node; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand move" -l to -d 'The node to move it to (`local` is this host)' -r
complete -c pgs -n "__fish_pgs_using_subcommand move" -l timeout -d 'Seconds to wait for the database on the new node to accept connections' -r
complete -c pgs -n "__fish_pgs_using_subcommand move" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand move" -l keep-source -d 'Keep the data volume on the old node (removed by default once the new copy answers)'
complete -c pgs -n "__fish_pgs_using_subcommand move" -s y -l yes -d 'Do not ask for confirmation of the downtime'
complete -c pgs -n "__fish_pgs_using_subcommand move" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand move" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand move" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and not __fish_seen_subcommand_from init enable disable status help" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand ha; and not __fish_seen_subcommand_from init enable disable status help" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and not __fish_seen_subcommand_from init enable disable status help" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and not __fish_seen_subcommand_from init enable disable status help" -f -a "init" -d 'Start the store (an etcd member on every node, three or more) and the agent on every node'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and not __fish_seen_subcommand_from init enable disable status help" -f -a "enable" -d 'Give an existing tenant a synchronous standby on another node (streamed from the running primary)'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and not __fish_seen_subcommand_from init enable disable status help" -f -a "disable" -d 'Remove a tenant\'s standby; the primary stays where it runs (its node becomes the tenant\'s)'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and not __fish_seen_subcommand_from init enable disable status help" -f -a "status" -d 'Primary, standby, replication, sync state, lag, epoch and last failover of each HA tenant'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and not __fish_seen_subcommand_from init enable disable status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from init" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from init" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from init" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from enable" -l standby-node -d 'The node of the standby (default: the ready node with the most memory free)' -r
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from enable" -l durability -d 'required: a commit returns once the standby has it (only a synchronous standby is promoted); preferred: synchronous while the standby is there, else asynchronous (not promoted when over 1 MiB behind)' -r -f -a "required\t'A commit returns only once the standby has it; without the standby, commits wait. Only a standby that was synchronous is ever promoted'
preferred\t'Synchronous while the standby is there, asynchronous while it is not; a standby more than [`PREFERRED_LAG_CAP`] behind is not promoted'"
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from enable" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from enable" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from enable" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from enable" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from disable" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from disable" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from disable" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from status" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from status" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from help" -f -a "init" -d 'Start the store (an etcd member on every node, three or more) and the agent on every node'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from help" -f -a "enable" -d 'Give an existing tenant a synchronous standby on another node (streamed from the running primary)'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from help" -f -a "disable" -d 'Remove a tenant\'s standby; the primary stays where it runs (its node becomes the tenant\'s)'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from help" -f -a "status" -d 'Primary, standby, replication, sync state, lag, epoch and last failover of each HA tenant'
complete -c pgs -n "__fish_pgs_using_subcommand ha; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand switchover" -l to -d 'The node to switch to: the standby\'s (the only choice, checked)' -r
complete -c pgs -n "__fish_pgs_using_subcommand switchover" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand switchover" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand switchover" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand switchover" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand agent; and not __fish_seen_subcommand_from run help" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand agent; and not __fish_seen_subcommand_from run help" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand agent; and not __fish_seen_subcommand_from run help" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand agent; and not __fish_seen_subcommand_from run help" -f -a "run" -d 'Run the agent of one node in the foreground'
complete -c pgs -n "__fish_pgs_using_subcommand agent; and not __fish_seen_subcommand_from run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand agent; and __fish_seen_subcommand_from run" -l node -d 'The node this agent runs on' -r
complete -c pgs -n "__fish_pgs_using_subcommand agent; and __fish_seen_subcommand_from run" -l log-format -d 'Log format' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c pgs -n "__fish_pgs_using_subcommand agent; and __fish_seen_subcommand_from run" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand agent; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pgs -n "__fish_pgs_using_subcommand agent; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand agent; and __fish_seen_subcommand_from help" -f -a "run" -d 'Run the agent of one node in the foreground'
complete -c pgs -n "__fish_pgs_using_subcommand agent; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand api; and not __fish_seen_subcommand_from run openapi help" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand api; and not __fish_seen_subcommand_from run openapi help" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand api; and not __fish_seen_subcommand_from run openapi help" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand api; and not __fish_seen_subcommand_from run openapi help" -f -a "run" -d 'Serve the HTTP API in the foreground until SIGINT/SIGTERM (HTTP on loopback, HTTPS elsewhere)'
complete -c pgs -n "__fish_pgs_using_subcommand api; and not __fish_seen_subcommand_from run openapi help" -f -a "openapi" -d 'Print the API\'s OpenAPI document (also served at /v1/openapi.json)'
complete -c pgs -n "__fish_pgs_using_subcommand api; and not __fish_seen_subcommand_from run openapi help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand api; and __fish_seen_subcommand_from run" -l listen -d 'Address to listen on: plain HTTP on loopback, TLS with the platform certificate on any other' -r
complete -c pgs -n "__fish_pgs_using_subcommand api; and __fish_seen_subcommand_from run" -l log-format -d 'Log format' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c pgs -n "__fish_pgs_using_subcommand api; and __fish_seen_subcommand_from run" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand api; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pgs -n "__fish_pgs_using_subcommand api; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand api; and __fish_seen_subcommand_from openapi" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand api; and __fish_seen_subcommand_from openapi" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand api; and __fish_seen_subcommand_from openapi" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand api; and __fish_seen_subcommand_from help" -f -a "run" -d 'Serve the HTTP API in the foreground until SIGINT/SIGTERM (HTTP on loopback, HTTPS elsewhere)'
complete -c pgs -n "__fish_pgs_using_subcommand api; and __fish_seen_subcommand_from help" -f -a "openapi" -d 'Print the API\'s OpenAPI document (also served at /v1/openapi.json)'
complete -c pgs -n "__fish_pgs_using_subcommand api; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "create" -d 'Make a token (printed once; only its hash is kept)'
complete -c pgs -n "__fish_pgs_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "list" -d 'List the tokens (names and access, never the tokens)'
complete -c pgs -n "__fish_pgs_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "revoke" -d 'Revoke a token: it stops working at once'
complete -c pgs -n "__fish_pgs_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand token; and __fish_seen_subcommand_from create" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand token; and __fish_seen_subcommand_from create" -l read-only -d 'It may read but not change anything'
complete -c pgs -n "__fish_pgs_using_subcommand token; and __fish_seen_subcommand_from create" -l json -d 'Print JSON'
complete -c pgs -n "__fish_pgs_using_subcommand token; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand token; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand token; and __fish_seen_subcommand_from list" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand token; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON document on stdout'
complete -c pgs -n "__fish_pgs_using_subcommand token; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand token; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand token; and __fish_seen_subcommand_from revoke" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand token; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand token; and __fish_seen_subcommand_from revoke" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "create" -d 'Make a token (printed once; only its hash is kept)'
complete -c pgs -n "__fish_pgs_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the tokens (names and access, never the tokens)'
complete -c pgs -n "__fish_pgs_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Revoke a token: it stops working at once'
complete -c pgs -n "__fish_pgs_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand completions" -l home -d 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)' -r -F
complete -c pgs -n "__fish_pgs_using_subcommand completions" -s h -l help -d 'Print help'
complete -c pgs -n "__fish_pgs_using_subcommand completions" -s V -l version -d 'Print version'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "setup" -d 'Create or update the configuration: state dir, domain, certificate choice'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "create" -d 'Create a tenant: container, volume, network and credentials'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "list" -d 'List tenants with their hostname, status and access'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "info" -d 'Show a tenant\'s connection details'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "start" -d 'Start a tenant, or every tenant'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "stop" -d 'Stop a tenant, or every tenant'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "recreate" -d 'Recreate a tenant\'s container, or every tenant\'s one at a time, on the same data (after an upgrade of pgs: no healthcheck process, sockets, settings); each restarts'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "remove" -d 'Remove a tenant (keeps its data volume unless --purge)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "prune-volumes" -d 'Delete a tenant\'s data volumes that it does not run on (what restores left; `pgs info` lists them)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "enable-access" -d 'Let the gateway admit a tenant\'s clients'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "disable-access" -d 'Refuse a tenant\'s clients at the gateway'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "allow" -d 'Add client networks (CIDR) to a tenant\'s allowlist (an empty list admits everyone)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "deny" -d 'Remove client networks (CIDR) from a tenant\'s allowlist'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "suspend-policy" -d 'Scale to zero: suspend a tenant after a time without clients (--after), or never (--never)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "suspend" -d 'Suspend a tenant now (stopped until its next client wakes it)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "pool" -d 'Show or change the pooled endpoint TENANT-pooler (applies while the gateway runs)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "controller" -d 'The controller: suspends idle tenants and wakes them for the gateway (the managed gateway\'s `pgs-controller` container runs it; `pgs gateway run` runs one inside)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "gateway" -d 'The gateway: one TLS port for every tenant'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "certs" -d 'Certificates for the gateway'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "backup" -d 'Backups (pgBackRest): turn them on, take one, list them'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "restore" -d 'Restore a tenant to a point in time, its latest state or a backup (keeps the current data)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "clone" -d 'Create a tenant from another tenant\'s backups (its latest state, or --at / --backup); the source keeps running'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "swarm" -d 'More than one host: make this host\'s engine a Docker Swarm manager and the first pgs node'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "node" -d 'The hosts of a swarm: add one, list them, remove one'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "move" -d 'Move a tenant to another node of the swarm with its data (states the downtime first)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "ha" -d 'High availability: the store, a synchronous standby per tenant, its status'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "switchover" -d 'Make an HA tenant\'s standby its primary, planned (maintenance); the old primary rejoins as standby'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "agent" -d 'The per-node agent of high availability (run by `pgs ha init` in the container pgs-agent)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "api" -d 'The HTTP API: a second front end over the same verbs (`pgs api run`)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "token" -d 'Bearer tokens of the HTTP API: make one, list them, revoke one'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c pgs -n "__fish_pgs_using_subcommand help; and not __fish_seen_subcommand_from setup create list info start stop recreate remove prune-volumes enable-access disable-access allow deny suspend-policy suspend pool controller gateway certs backup restore clone swarm node move ha switchover agent api token completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from controller" -f -a "run" -d 'Run the controller in the foreground'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from gateway" -f -a "run" -d 'Run the gateway in the foreground until SIGINT/SIGTERM'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from gateway" -f -a "start" -d 'Start the managed gateway container (pgs-gateway), building its image from this binary; a running gateway of another pgs version is replaced without refusing a connection'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from gateway" -f -a "stop" -d 'Stop the managed gateway container (open sessions drain first)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from gateway" -f -a "restart" -d 'Replace the managed gateway container by a new one without refusing a connection'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from gateway" -f -a "status" -d 'Show the managed gateway\'s health, version, uptime and open sessions'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from gateway" -f -a "logs" -d 'Print the managed gateway\'s log'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from certs" -f -a "issue" -d 'Obtain a certificate for *.DOMAIN and DOMAIN from an ACME CA through DNS-01'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from certs" -f -a "renew" -d 'Renew the ACME certificate if it is due (safe to run from cron or a timer)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from certs" -f -a "self-signed" -d 'Issue a wildcard certificate for *.DOMAIN and DOMAIN from a local CA in the state dir'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from certs" -f -a "import" -d 'Install a certificate chain and key you already have (PEM files)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from certs" -f -a "status" -d 'Show the installed certificate: names, issuer, validity, renewal date, files'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "enable" -d 'Turn backups on for a tenant created before (or every tenant): restarts it with WAL archiving, then takes a full backup'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "run" -d 'Take a backup now'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "list" -d 'List a tenant\'s backups and archived WAL'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "verify" -d 'The restore drill: recover a throwaway copy to a random moment of the restorable window (checked), then to the latest state, check every database, record'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from swarm" -f -a "init" -d 'Make the Docker engine pgs uses a swarm manager (or adopt the swarm it manages); this host becomes node "local", where the state dir stays'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from node" -f -a "add" -d 'Adopt another host\'s Docker engine as node NAME: it joins the swarm (unless it is in it) and gets the tenant image'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from node" -f -a "list" -d 'List the nodes: state in the swarm, tenants, memory'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from node" -f -a "remove" -d 'Remove a node without tenants: it leaves the swarm'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from node" -f -a "sync" -d 'Bring the gateways of one node or every node up to date now: their files, and their binary (replaced without refusing a connection)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from node" -f -a "drain" -d 'Switch every HA primary on the node over to its standby (before a reboot); lists the tenants without HA that stay there'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from ha" -f -a "init" -d 'Start the store (an etcd member on every node, three or more) and the agent on every node'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from ha" -f -a "enable" -d 'Give an existing tenant a synchronous standby on another node (streamed from the running primary)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from ha" -f -a "disable" -d 'Remove a tenant\'s standby; the primary stays where it runs (its node becomes the tenant\'s)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from ha" -f -a "status" -d 'Primary, standby, replication, sync state, lag, epoch and last failover of each HA tenant'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from agent" -f -a "run" -d 'Run the agent of one node in the foreground'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from api" -f -a "run" -d 'Serve the HTTP API in the foreground until SIGINT/SIGTERM (HTTP on loopback, HTTPS elsewhere)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from api" -f -a "openapi" -d 'Print the API\'s OpenAPI document (also served at /v1/openapi.json)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "create" -d 'Make a token (printed once; only its hash is kept)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "list" -d 'List the tokens (names and access, never the tokens)'
complete -c pgs -n "__fish_pgs_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "revoke" -d 'Revoke a token: it stops working at once'
