
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'pgs' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'pgs'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'pgs' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Create or update the configuration: state dir, domain, certificate choice')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a tenant: container, volume, network and credentials')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List tenants with their hostname, status and access')
            [CompletionResult]::new('info', 'info', [CompletionResultType]::ParameterValue, 'Show a tenant''s connection details')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start a tenant, or every tenant')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop a tenant, or every tenant')
            [CompletionResult]::new('recreate', 'recreate', [CompletionResultType]::ParameterValue, 'Recreate a tenant''s container, or every tenant''s one at a time, on the same data (after an upgrade of pgs: no healthcheck process, sockets, settings); each restarts')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a tenant (keeps its data volume unless --purge)')
            [CompletionResult]::new('prune-volumes', 'prune-volumes', [CompletionResultType]::ParameterValue, 'Delete a tenant''s data volumes that it does not run on (what restores left; `pgs info` lists them)')
            [CompletionResult]::new('enable-access', 'enable-access', [CompletionResultType]::ParameterValue, 'Let the gateway admit a tenant''s clients')
            [CompletionResult]::new('disable-access', 'disable-access', [CompletionResultType]::ParameterValue, 'Refuse a tenant''s clients at the gateway')
            [CompletionResult]::new('allow', 'allow', [CompletionResultType]::ParameterValue, 'Add client networks (CIDR) to a tenant''s allowlist (an empty list admits everyone)')
            [CompletionResult]::new('deny', 'deny', [CompletionResultType]::ParameterValue, 'Remove client networks (CIDR) from a tenant''s allowlist')
            [CompletionResult]::new('suspend-policy', 'suspend-policy', [CompletionResultType]::ParameterValue, 'Scale to zero: suspend a tenant after a time without clients (--after), or never (--never)')
            [CompletionResult]::new('suspend', 'suspend', [CompletionResultType]::ParameterValue, 'Suspend a tenant now (stopped until its next client wakes it)')
            [CompletionResult]::new('pool', 'pool', [CompletionResultType]::ParameterValue, 'Show or change the pooled endpoint TENANT-pooler (applies while the gateway runs)')
            [CompletionResult]::new('controller', 'controller', [CompletionResultType]::ParameterValue, 'The controller: suspends idle tenants and wakes them for the gateway (the managed gateway''s `pgs-controller` container runs it; `pgs gateway run` runs one inside)')
            [CompletionResult]::new('gateway', 'gateway', [CompletionResultType]::ParameterValue, 'The gateway: one TLS port for every tenant')
            [CompletionResult]::new('certs', 'certs', [CompletionResultType]::ParameterValue, 'Certificates for the gateway')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Backups (pgBackRest): turn them on, take one, list them')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Restore a tenant to a point in time, its latest state or a backup (keeps the current data)')
            [CompletionResult]::new('clone', 'clone', [CompletionResultType]::ParameterValue, 'Create a tenant from another tenant''s backups (its latest state, or --at / --backup); the source keeps running')
            [CompletionResult]::new('swarm', 'swarm', [CompletionResultType]::ParameterValue, 'More than one host: make this host''s engine a Docker Swarm manager and the first pgs node')
            [CompletionResult]::new('node', 'node', [CompletionResultType]::ParameterValue, 'The hosts of a swarm: add one, list them, remove one')
            [CompletionResult]::new('move', 'move', [CompletionResultType]::ParameterValue, 'Move a tenant to another node of the swarm with its data (states the downtime first)')
            [CompletionResult]::new('ha', 'ha', [CompletionResultType]::ParameterValue, 'High availability: the store, a synchronous standby per tenant, its status')
            [CompletionResult]::new('switchover', 'switchover', [CompletionResultType]::ParameterValue, 'Make an HA tenant''s standby its primary, planned (maintenance); the old primary rejoins as standby')
            [CompletionResult]::new('agent', 'agent', [CompletionResultType]::ParameterValue, 'The per-node agent of high availability (run by `pgs ha init` in the container pgs-agent)')
            [CompletionResult]::new('api', 'api', [CompletionResultType]::ParameterValue, 'The HTTP API: a second front end over the same verbs (`pgs api run`)')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Bearer tokens of the HTTP API: make one, list them, revoke one')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;setup' {
            [CompletionResult]::new('--domain', '--domain', [CompletionResultType]::ParameterName, 'Public domain; tenants are reached as TENANT.DOMAIN')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Default PostgreSQL image for new tenants')
            [CompletionResult]::new('--gateway-port', '--gateway-port', [CompletionResultType]::ParameterName, 'Port the gateway listens on')
            [CompletionResult]::new('--health-port', '--health-port', [CompletionResultType]::ParameterName, 'Port (on 127.0.0.1) of the managed gateway''s /health, /ready and /metrics')
            [CompletionResult]::new('--backups', '--backups', [CompletionResultType]::ParameterName, 'Back up tenants (pgBackRest): `local` keeps each tenant''s repository in a volume of its own; new tenants archive WAL from the start')
            [CompletionResult]::new('--s3-endpoint', '--s3-endpoint', [CompletionResultType]::ParameterName, 'With --backups s3: the endpoint as tenant containers reach it, HOST or HOST:PORT (keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)')
            [CompletionResult]::new('--s3-bucket', '--s3-bucket', [CompletionResultType]::ParameterName, 'With --backups s3: the bucket (each tenant gets a path of its own in it)')
            [CompletionResult]::new('--s3-region', '--s3-region', [CompletionResultType]::ParameterName, 'With --backups s3: the region')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--self-signed', '--self-signed', [CompletionResultType]::ParameterName, 'Use a local CA and a self-signed wildcard certificate (development, tests)')
            [CompletionResult]::new('--no-gateway', '--no-gateway', [CompletionResultType]::ParameterName, 'Do not start the managed gateway (e.g. to run `pgs gateway run` under systemd instead)')
            [CompletionResult]::new('--s3-path-style', '--s3-path-style', [CompletionResultType]::ParameterName, 'With --backups s3: path-style URLs (most self-hosted stores)')
            [CompletionResult]::new('--s3-no-verify-tls', '--s3-no-verify-tls', [CompletionResultType]::ParameterName, 'With --backups s3: do not verify the endpoint''s TLS certificate (test setups only)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Never prompt; take defaults for what is not given')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Never prompt; take defaults for what is not given')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;create' {
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'PostgreSQL image (default: the one chosen at setup)')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password for the tenant''s role (default: generated)')
            [CompletionResult]::new('--memory', '--memory', [CompletionResultType]::ParameterName, 'Memory limit, e.g. 512m or 2g')
            [CompletionResult]::new('--cpus', '--cpus', [CompletionResultType]::ParameterName, 'CPU limit, e.g. 1.5')
            [CompletionResult]::new('--suspend-after', '--suspend-after', [CompletionResultType]::ParameterName, 'Scale to zero: stop the tenant after this long without clients or activity (e.g. 15m); the next client wakes it')
            [CompletionResult]::new('--pg-setting', '--pg-setting', [CompletionResultType]::ParameterName, 'A PostgreSQL setting for this tenant, over the ones pgs derives from --memory (repeatable), e.g. --pg-setting max_connections=200')
            [CompletionResult]::new('--standby-node', '--standby-node', [CompletionResultType]::ParameterName, 'The node of the standby (default: the ready node with the most memory free)')
            [CompletionResult]::new('--durability', '--durability', [CompletionResultType]::ParameterName, 'required: a commit returns once the standby has it (only a synchronous standby is promoted); preferred: synchronous while the standby is there, else asynchronous (not promoted when over 1 MiB behind)')
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'The node to make it on, with a swarm (default: the one with the most memory free)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database to accept connections')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--no-access', '--no-access', [CompletionResultType]::ParameterName, 'Create the tenant with access disabled')
            [CompletionResult]::new('--egress', '--egress', [CompletionResultType]::ParameterName, 'Let the tenant''s PostgreSQL connect out (postgres_fdw, dblink): its container joins Docker''s default bridge. Without it the container has no network (nothing connects in either way: clients come through the gateway)')
            [CompletionResult]::new('--adopt', '--adopt', [CompletionResultType]::ParameterName, 'Reuse the data volume a `pgs remove` without --purge left behind')
            [CompletionResult]::new('--ha', '--ha', [CompletionResultType]::ParameterName, 'Give it a synchronous standby on another node (high availability; `pgs ha init` first)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;list' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;info' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--show-password', '--show-password', [CompletionResultType]::ParameterName, 'Include the password and a full connection URL')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;start' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each database to accept connections')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;stop' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;recreate' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each database to accept connections')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;remove' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--purge', '--purge', [CompletionResultType]::ParameterName, 'Also delete the data volume and the stored passwords (irreversible); backups are kept')
            [CompletionResult]::new('--purge-backups', '--purge-backups', [CompletionResultType]::ParameterName, 'With --purge, also delete the tenant''s backups (irreversible)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;prune-volumes' {
            [CompletionResult]::new('--volume', '--volume', [CompletionResultType]::ParameterName, 'Only this volume (default: every data volume of the tenant but the one in use)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;enable-access' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;disable-access' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;allow' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;deny' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;suspend-policy' {
            [CompletionResult]::new('--after', '--after', [CompletionResultType]::ParameterName, 'Suspend after this long without clients or activity, e.g. 15m')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--never', '--never', [CompletionResultType]::ParameterName, 'Never suspend the tenant')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;suspend' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Suspend even with client sessions open (they are closed)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;pool' {
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'Transaction pooling (a server connection per transaction), session pooling, or auto (per transaction, kept for a client while it holds session state such as LISTEN)')
            [CompletionResult]::new('--size', '--size', [CompletionResultType]::ParameterName, 'Server connections per role and database')
            [CompletionResult]::new('--max-clients', '--max-clients', [CompletionResultType]::ParameterName, 'Pooled clients at once for the tenant')
            [CompletionResult]::new('--queue-timeout', '--queue-timeout', [CompletionResultType]::ParameterName, 'Seconds a client waits for a server connection before it is refused (53300)')
            [CompletionResult]::new('--server-idle-timeout', '--server-idle-timeout', [CompletionResultType]::ParameterName, 'Seconds an unused server connection is kept')
            [CompletionResult]::new('--reserve', '--reserve', [CompletionResultType]::ParameterName, 'In auto mode, server connections per role and database that clients holding session state (LISTEN, SET ROLE, ...) may keep for themselves [default: half of --size]')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--reset', '--reset', [CompletionResultType]::ParameterName, 'Back to the settings derived from the tenant''s memory')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;controller' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the controller in the foreground')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;controller;run' {
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'The node of a swarm whose dir PGS_HOME is (its `pgs-controller` container): watch that node''s tenants (pgs starts it there; not for the manager''s state dir)')
            [CompletionResult]::new('--wake-timeout', '--wake-timeout', [CompletionResultType]::ParameterName, 'How long a wake may take before the held clients are told to retry')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log format')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;controller;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the controller in the foreground')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;controller;help;run' {
            break
        }
        'pgs;controller;help;help' {
            break
        }
        'pgs;gateway' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the gateway in the foreground until SIGINT/SIGTERM')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the managed gateway container (pgs-gateway), building its image from this binary; a running gateway of another pgs version is replaced without refusing a connection')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the managed gateway container (open sessions drain first)')
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Replace the managed gateway container by a new one without refusing a connection')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the managed gateway''s health, version, uptime and open sessions')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print the managed gateway''s log')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;gateway;run' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on (default: 0.0.0.0 and the gateway port from the config)')
            [CompletionResult]::new('--health-listen', '--health-listen', [CompletionResultType]::ParameterName, 'Address of /health, /ready and /metrics')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log format')
            [CompletionResult]::new('--handshake-timeout', '--handshake-timeout', [CompletionResultType]::ParameterName, 'Seconds a client has to complete TLS and startup')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'Connections open at once, over all tenants')
            [CompletionResult]::new('--max-connections-per-tenant', '--max-connections-per-tenant', [CompletionResultType]::ParameterName, 'Sessions open at once per tenant')
            [CompletionResult]::new('--drain-timeout', '--drain-timeout', [CompletionResultType]::ParameterName, 'Seconds open sessions may finish after SIGTERM (then they end with SQLSTATE 57P01)')
            [CompletionResult]::new('--takeover-drain', '--takeover-drain', [CompletionResultType]::ParameterName, 'When this gateway takes over from a running one: how long that one may serve its open sessions (then they end with SQLSTATE 57P01)')
            [CompletionResult]::new('--bind-retry', '--bind-retry', [CompletionResultType]::ParameterName, 'How long to retry binding the client port while another process holds it (default: fail at once)')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Which tenant address to dial')
            [CompletionResult]::new('--wake-timeout', '--wake-timeout', [CompletionResultType]::ParameterName, 'How long a client of a suspended tenant is held while it starts (then SQLSTATE 57P03)')
            [CompletionResult]::new('--serve-threads', '--serve-threads', [CompletionResultType]::ParameterName, 'Threads serving sessions, each a single-threaded runtime that keeps its sessions (default: half the cores, at least one); 0 serves them on the shared work-stealing runtime instead')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--allow-plaintext', '--allow-plaintext', [CompletionResultType]::ParameterName, 'Accept clients without TLS (only on private networks)')
            [CompletionResult]::new('--keep-sessions-on-revoke', '--keep-sessions-on-revoke', [CompletionResultType]::ParameterName, 'Keep open sessions when a tenant is disabled, stopped or removed')
            [CompletionResult]::new('--no-controller', '--no-controller', [CompletionResultType]::ParameterName, 'Do not run the controller (which suspends idle tenants and wakes them) in this process')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;gateway;start' {
            [CompletionResult]::new('--drain', '--drain', [CompletionResultType]::ParameterName, 'How long a replaced gateway may serve its open sessions (then they end with SQLSTATE 57P01, "the gateway is restarting, reconnect")')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;gateway;stop' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;gateway;restart' {
            [CompletionResult]::new('--drain', '--drain', [CompletionResultType]::ParameterName, 'How long a replaced gateway may serve its open sessions (then they end with SQLSTATE 57P01, "the gateway is restarting, reconnect")')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;gateway;status' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;gateway;logs' {
            [CompletionResult]::new('--tail', '--tail', [CompletionResultType]::ParameterName, 'Lines from the end to start with ("all" for everything)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep printing new lines')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep printing new lines')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;gateway;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the gateway in the foreground until SIGINT/SIGTERM')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the managed gateway container (pgs-gateway), building its image from this binary; a running gateway of another pgs version is replaced without refusing a connection')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the managed gateway container (open sessions drain first)')
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Replace the managed gateway container by a new one without refusing a connection')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the managed gateway''s health, version, uptime and open sessions')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print the managed gateway''s log')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;gateway;help;run' {
            break
        }
        'pgs;gateway;help;start' {
            break
        }
        'pgs;gateway;help;stop' {
            break
        }
        'pgs;gateway;help;restart' {
            break
        }
        'pgs;gateway;help;status' {
            break
        }
        'pgs;gateway;help;logs' {
            break
        }
        'pgs;gateway;help;help' {
            break
        }
        'pgs;certs' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('issue', 'issue', [CompletionResultType]::ParameterValue, 'Obtain a certificate for *.DOMAIN and DOMAIN from an ACME CA through DNS-01')
            [CompletionResult]::new('renew', 'renew', [CompletionResultType]::ParameterValue, 'Renew the ACME certificate if it is due (safe to run from cron or a timer)')
            [CompletionResult]::new('self-signed', 'self-signed', [CompletionResultType]::ParameterValue, 'Issue a wildcard certificate for *.DOMAIN and DOMAIN from a local CA in the state dir')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Install a certificate chain and key you already have (PEM files)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the installed certificate: names, issuer, validity, renewal date, files')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;certs;issue' {
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'ACME CA: letsencrypt, letsencrypt-staging, zerossl, or a directory URL')
            [CompletionResult]::new('--email', '--email', [CompletionResultType]::ParameterName, 'Contact address for the CA''s expiry and policy notices')
            [CompletionResult]::new('--eab-kid', '--eab-kid', [CompletionResultType]::ParameterName, 'External account binding key id (ZeroSSL and CAs that require EAB)')
            [CompletionResult]::new('--eab-hmac', '--eab-hmac', [CompletionResultType]::ParameterName, 'External account binding HMAC key, base64url (better: env PGS_EAB_HMAC)')
            [CompletionResult]::new('--ca-root', '--ca-root', [CompletionResultType]::ParameterName, 'Extra root certificate (PEM) to trust for the ACME server''s own HTTPS (test CAs)')
            [CompletionResult]::new('--dns', '--dns', [CompletionResultType]::ParameterName, 'How to publish the DNS-01 TXT records')
            [CompletionResult]::new('--dns-server', '--dns-server', [CompletionResultType]::ParameterName, 'rfc2136: the name server that takes dynamic updates')
            [CompletionResult]::new('--dns-zone', '--dns-zone', [CompletionResultType]::ParameterName, 'rfc2136: the zone to update (default: found with an SOA query)')
            [CompletionResult]::new('--tsig-key-name', '--tsig-key-name', [CompletionResultType]::ParameterName, 'rfc2136: TSIG key name (default: the name in the key file)')
            [CompletionResult]::new('--tsig-algorithm', '--tsig-algorithm', [CompletionResultType]::ParameterName, 'rfc2136: TSIG algorithm (default: the key file''s, else hmac-sha256)')
            [CompletionResult]::new('--tsig-secret-file', '--tsig-secret-file', [CompletionResultType]::ParameterName, 'rfc2136: file with the TSIG secret (base64, or `tsig-keygen` output); or env PGS_TSIG_SECRET')
            [CompletionResult]::new('--dns-exec', '--dns-exec', [CompletionResultType]::ParameterName, 'exec: program run as `PROGRAM present|cleanup FQDN VALUE`')
            [CompletionResult]::new('--propagation-resolver', '--propagation-resolver', [CompletionResultType]::ParameterName, 'Name server asked whether the records are visible (default: the rfc2136 server, else the zone''s authoritative servers)')
            [CompletionResult]::new('--propagation-timeout', '--propagation-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the records to become visible')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Agree to the CA''s terms of service without asking')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Agree to the CA''s terms of service without asking')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;certs;renew' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Renew even if the certificate is not due')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;certs;self-signed' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;certs;import' {
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Certificate chain (PEM, leaf first) covering *.DOMAIN and DOMAIN')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Its private key (PEM)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;certs;status' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;certs;help' {
            [CompletionResult]::new('issue', 'issue', [CompletionResultType]::ParameterValue, 'Obtain a certificate for *.DOMAIN and DOMAIN from an ACME CA through DNS-01')
            [CompletionResult]::new('renew', 'renew', [CompletionResultType]::ParameterValue, 'Renew the ACME certificate if it is due (safe to run from cron or a timer)')
            [CompletionResult]::new('self-signed', 'self-signed', [CompletionResultType]::ParameterValue, 'Issue a wildcard certificate for *.DOMAIN and DOMAIN from a local CA in the state dir')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Install a certificate chain and key you already have (PEM files)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the installed certificate: names, issuer, validity, renewal date, files')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;certs;help;issue' {
            break
        }
        'pgs;certs;help;renew' {
            break
        }
        'pgs;certs;help;self-signed' {
            break
        }
        'pgs;certs;help;import' {
            break
        }
        'pgs;certs;help;status' {
            break
        }
        'pgs;certs;help;help' {
            break
        }
        'pgs;backup' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Turn backups on for a tenant created before (or every tenant): restarts it with WAL archiving, then takes a full backup')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Take a backup now')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List a tenant''s backups and archived WAL')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'The restore drill: recover a throwaway copy to a random moment of the restorable window (checked), then to the latest state, check every database, record')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;backup;enable' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each database to accept connections after the restart')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every tenant that has no backups yet')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;backup;run' {
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'What to copy: everything, or the changes since the last full (diff) or last backup (incr)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--due', '--due', [CompletionResultType]::ParameterName, 'Every tenant with backups whose backup is due: full weekly, diff daily (for a timer)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;backup;list' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;backup;verify' {
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The moment to recover to first (default: a random one of the restorable window)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;backup;help' {
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Turn backups on for a tenant created before (or every tenant): restarts it with WAL archiving, then takes a full backup')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Take a backup now')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List a tenant''s backups and archived WAL')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'The restore drill: recover a throwaway copy to a random moment of the restorable window (checked), then to the latest state, check every database, record')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;backup;help;enable' {
            break
        }
        'pgs;backup;help;run' {
            break
        }
        'pgs;backup;help;list' {
            break
        }
        'pgs;backup;help;verify' {
            break
        }
        'pgs;backup;help;help' {
            break
        }
        'pgs;restore' {
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'Recover everything committed before this time (RFC 3339, e.g. 2026-11-26T21:00:00Z)')
            [CompletionResult]::new('--backup', '--backup', [CompletionResultType]::ParameterName, 'Recover to the end of one backup (a label from `pgs backup list`)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the restored database to accept connections')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--latest', '--latest', [CompletionResultType]::ParameterName, 'Recover everything archived (the newest state)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;clone' {
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'Copy the source as it was at this time (RFC 3339), not its latest state')
            [CompletionResult]::new('--backup', '--backup', [CompletionResultType]::ParameterName, 'Copy the source as of one backup (a label from `pgs backup list`)')
            [CompletionResult]::new('--password', '--password', [CompletionResultType]::ParameterName, 'Password for the tenant''s role (default: generated)')
            [CompletionResult]::new('--memory', '--memory', [CompletionResultType]::ParameterName, 'Memory limit, e.g. 512m or 2g')
            [CompletionResult]::new('--cpus', '--cpus', [CompletionResultType]::ParameterName, 'CPU limit, e.g. 1.5')
            [CompletionResult]::new('--suspend-after', '--suspend-after', [CompletionResultType]::ParameterName, 'Scale to zero: stop the tenant after this long without clients or activity (e.g. 15m); the next client wakes it')
            [CompletionResult]::new('--pg-setting', '--pg-setting', [CompletionResultType]::ParameterName, 'A PostgreSQL setting for this tenant, over the ones pgs derives from --memory (repeatable), e.g. --pg-setting max_connections=200')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the clone to accept connections')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--no-access', '--no-access', [CompletionResultType]::ParameterName, 'Create the tenant with access disabled')
            [CompletionResult]::new('--egress', '--egress', [CompletionResultType]::ParameterName, 'Let the tenant''s PostgreSQL connect out (postgres_fdw, dblink): its container joins Docker''s default bridge. Without it the container has no network (nothing connects in either way: clients come through the gateway)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;swarm' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Make the Docker engine pgs uses a swarm manager (or adopt the swarm it manages); this host becomes node "local", where the state dir stays')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;swarm;init' {
            [CompletionResult]::new('--advertise-addr', '--advertise-addr', [CompletionResultType]::ParameterName, 'The address other hosts reach this one on (default: Docker''s choice, which fails on a host with more than one address)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;swarm;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Make the Docker engine pgs uses a swarm manager (or adopt the swarm it manages); this host becomes node "local", where the state dir stays')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;swarm;help;init' {
            break
        }
        'pgs;swarm;help;help' {
            break
        }
        'pgs;node' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Adopt another host''s Docker engine as node NAME: it joins the swarm (unless it is in it) and gets the tenant image')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the nodes: state in the swarm, tenants, memory')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a node without tenants: it leaves the swarm')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Bring the gateways of one node or every node up to date now: their files, and their binary (replaced without refusing a connection)')
            [CompletionResult]::new('drain', 'drain', [CompletionResultType]::ParameterValue, 'Switch every HA primary on the node over to its standby (before a reboot); lists the tenants without HA that stay there')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;node;add' {
            [CompletionResult]::new('--docker-host', '--docker-host', [CompletionResultType]::ParameterName, 'The node''s Docker API: unix:///PATH, or tcp://HOST:PORT over a private link')
            [CompletionResult]::new('--address', '--address', [CompletionResultType]::ParameterName, 'The address the node advertises to the swarm (default: Docker''s choice)')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The node''s dir on its host, for its tenants'' sockets and its gateway''s state (default: /var/lib/pgs/INSTANCE/NAME)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;node;list' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;node;remove' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;node;sync' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;node;drain' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;node;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Adopt another host''s Docker engine as node NAME: it joins the swarm (unless it is in it) and gets the tenant image')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the nodes: state in the swarm, tenants, memory')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a node without tenants: it leaves the swarm')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Bring the gateways of one node or every node up to date now: their files, and their binary (replaced without refusing a connection)')
            [CompletionResult]::new('drain', 'drain', [CompletionResultType]::ParameterValue, 'Switch every HA primary on the node over to its standby (before a reboot); lists the tenants without HA that stay there')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;node;help;add' {
            break
        }
        'pgs;node;help;list' {
            break
        }
        'pgs;node;help;remove' {
            break
        }
        'pgs;node;help;sync' {
            break
        }
        'pgs;node;help;drain' {
            break
        }
        'pgs;node;help;help' {
            break
        }
        'pgs;move' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The node to move it to (`local` is this host)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the database on the new node to accept connections')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--keep-source', '--keep-source', [CompletionResultType]::ParameterName, 'Keep the data volume on the old node (removed by default once the new copy answers)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation of the downtime')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation of the downtime')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;ha' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Start the store (an etcd member on every node, three or more) and the agent on every node')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Give an existing tenant a synchronous standby on another node (streamed from the running primary)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Remove a tenant''s standby; the primary stays where it runs (its node becomes the tenant''s)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Primary, standby, replication, sync state, lag, epoch and last failover of each HA tenant')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;ha;init' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;ha;enable' {
            [CompletionResult]::new('--standby-node', '--standby-node', [CompletionResultType]::ParameterName, 'The node of the standby (default: the ready node with the most memory free)')
            [CompletionResult]::new('--durability', '--durability', [CompletionResultType]::ParameterName, 'required: a commit returns once the standby has it (only a synchronous standby is promoted); preferred: synchronous while the standby is there, else asynchronous (not promoted when over 1 MiB behind)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;ha;disable' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;ha;status' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;ha;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Start the store (an etcd member on every node, three or more) and the agent on every node')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Give an existing tenant a synchronous standby on another node (streamed from the running primary)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Remove a tenant''s standby; the primary stays where it runs (its node becomes the tenant''s)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Primary, standby, replication, sync state, lag, epoch and last failover of each HA tenant')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;ha;help;init' {
            break
        }
        'pgs;ha;help;enable' {
            break
        }
        'pgs;ha;help;disable' {
            break
        }
        'pgs;ha;help;status' {
            break
        }
        'pgs;ha;help;help' {
            break
        }
        'pgs;switchover' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The node to switch to: the standby''s (the only choice, checked)')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;agent' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the agent of one node in the foreground')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;agent;run' {
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'The node this agent runs on')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log format')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;agent;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the agent of one node in the foreground')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;agent;help;run' {
            break
        }
        'pgs;agent;help;help' {
            break
        }
        'pgs;api' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Serve the HTTP API in the foreground until SIGINT/SIGTERM (HTTP on loopback, HTTPS elsewhere)')
            [CompletionResult]::new('openapi', 'openapi', [CompletionResultType]::ParameterValue, 'Print the API''s OpenAPI document (also served at /v1/openapi.json)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;api;run' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on: plain HTTP on loopback, TLS with the platform certificate on any other')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log format')
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;api;openapi' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;api;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Serve the HTTP API in the foreground until SIGINT/SIGTERM (HTTP on loopback, HTTPS elsewhere)')
            [CompletionResult]::new('openapi', 'openapi', [CompletionResultType]::ParameterValue, 'Print the API''s OpenAPI document (also served at /v1/openapi.json)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;api;help;run' {
            break
        }
        'pgs;api;help;openapi' {
            break
        }
        'pgs;api;help;help' {
            break
        }
        'pgs;token' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Make a token (printed once; only its hash is kept)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the tokens (names and access, never the tokens)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a token: it stops working at once')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;token;create' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--read-only', '--read-only', [CompletionResultType]::ParameterName, 'It may read but not change anything')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;token;list' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;token;revoke' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;token;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Make a token (printed once; only its hash is kept)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the tokens (names and access, never the tokens)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a token: it stops working at once')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;token;help;create' {
            break
        }
        'pgs;token;help;list' {
            break
        }
        'pgs;token;help;revoke' {
            break
        }
        'pgs;token;help;help' {
            break
        }
        'pgs;completions' {
            [CompletionResult]::new('--home', '--home', [CompletionResultType]::ParameterName, 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pgs;help' {
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Create or update the configuration: state dir, domain, certificate choice')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a tenant: container, volume, network and credentials')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List tenants with their hostname, status and access')
            [CompletionResult]::new('info', 'info', [CompletionResultType]::ParameterValue, 'Show a tenant''s connection details')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start a tenant, or every tenant')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop a tenant, or every tenant')
            [CompletionResult]::new('recreate', 'recreate', [CompletionResultType]::ParameterValue, 'Recreate a tenant''s container, or every tenant''s one at a time, on the same data (after an upgrade of pgs: no healthcheck process, sockets, settings); each restarts')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a tenant (keeps its data volume unless --purge)')
            [CompletionResult]::new('prune-volumes', 'prune-volumes', [CompletionResultType]::ParameterValue, 'Delete a tenant''s data volumes that it does not run on (what restores left; `pgs info` lists them)')
            [CompletionResult]::new('enable-access', 'enable-access', [CompletionResultType]::ParameterValue, 'Let the gateway admit a tenant''s clients')
            [CompletionResult]::new('disable-access', 'disable-access', [CompletionResultType]::ParameterValue, 'Refuse a tenant''s clients at the gateway')
            [CompletionResult]::new('allow', 'allow', [CompletionResultType]::ParameterValue, 'Add client networks (CIDR) to a tenant''s allowlist (an empty list admits everyone)')
            [CompletionResult]::new('deny', 'deny', [CompletionResultType]::ParameterValue, 'Remove client networks (CIDR) from a tenant''s allowlist')
            [CompletionResult]::new('suspend-policy', 'suspend-policy', [CompletionResultType]::ParameterValue, 'Scale to zero: suspend a tenant after a time without clients (--after), or never (--never)')
            [CompletionResult]::new('suspend', 'suspend', [CompletionResultType]::ParameterValue, 'Suspend a tenant now (stopped until its next client wakes it)')
            [CompletionResult]::new('pool', 'pool', [CompletionResultType]::ParameterValue, 'Show or change the pooled endpoint TENANT-pooler (applies while the gateway runs)')
            [CompletionResult]::new('controller', 'controller', [CompletionResultType]::ParameterValue, 'The controller: suspends idle tenants and wakes them for the gateway (the managed gateway''s `pgs-controller` container runs it; `pgs gateway run` runs one inside)')
            [CompletionResult]::new('gateway', 'gateway', [CompletionResultType]::ParameterValue, 'The gateway: one TLS port for every tenant')
            [CompletionResult]::new('certs', 'certs', [CompletionResultType]::ParameterValue, 'Certificates for the gateway')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Backups (pgBackRest): turn them on, take one, list them')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Restore a tenant to a point in time, its latest state or a backup (keeps the current data)')
            [CompletionResult]::new('clone', 'clone', [CompletionResultType]::ParameterValue, 'Create a tenant from another tenant''s backups (its latest state, or --at / --backup); the source keeps running')
            [CompletionResult]::new('swarm', 'swarm', [CompletionResultType]::ParameterValue, 'More than one host: make this host''s engine a Docker Swarm manager and the first pgs node')
            [CompletionResult]::new('node', 'node', [CompletionResultType]::ParameterValue, 'The hosts of a swarm: add one, list them, remove one')
            [CompletionResult]::new('move', 'move', [CompletionResultType]::ParameterValue, 'Move a tenant to another node of the swarm with its data (states the downtime first)')
            [CompletionResult]::new('ha', 'ha', [CompletionResultType]::ParameterValue, 'High availability: the store, a synchronous standby per tenant, its status')
            [CompletionResult]::new('switchover', 'switchover', [CompletionResultType]::ParameterValue, 'Make an HA tenant''s standby its primary, planned (maintenance); the old primary rejoins as standby')
            [CompletionResult]::new('agent', 'agent', [CompletionResultType]::ParameterValue, 'The per-node agent of high availability (run by `pgs ha init` in the container pgs-agent)')
            [CompletionResult]::new('api', 'api', [CompletionResultType]::ParameterValue, 'The HTTP API: a second front end over the same verbs (`pgs api run`)')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Bearer tokens of the HTTP API: make one, list them, revoke one')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pgs;help;setup' {
            break
        }
        'pgs;help;create' {
            break
        }
        'pgs;help;list' {
            break
        }
        'pgs;help;info' {
            break
        }
        'pgs;help;start' {
            break
        }
        'pgs;help;stop' {
            break
        }
        'pgs;help;recreate' {
            break
        }
        'pgs;help;remove' {
            break
        }
        'pgs;help;prune-volumes' {
            break
        }
        'pgs;help;enable-access' {
            break
        }
        'pgs;help;disable-access' {
            break
        }
        'pgs;help;allow' {
            break
        }
        'pgs;help;deny' {
            break
        }
        'pgs;help;suspend-policy' {
            break
        }
        'pgs;help;suspend' {
            break
        }
        'pgs;help;pool' {
            break
        }
        'pgs;help;controller' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the controller in the foreground')
            break
        }
        'pgs;help;controller;run' {
            break
        }
        'pgs;help;gateway' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the gateway in the foreground until SIGINT/SIGTERM')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the managed gateway container (pgs-gateway), building its image from this binary; a running gateway of another pgs version is replaced without refusing a connection')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the managed gateway container (open sessions drain first)')
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Replace the managed gateway container by a new one without refusing a connection')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the managed gateway''s health, version, uptime and open sessions')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print the managed gateway''s log')
            break
        }
        'pgs;help;gateway;run' {
            break
        }
        'pgs;help;gateway;start' {
            break
        }
        'pgs;help;gateway;stop' {
            break
        }
        'pgs;help;gateway;restart' {
            break
        }
        'pgs;help;gateway;status' {
            break
        }
        'pgs;help;gateway;logs' {
            break
        }
        'pgs;help;certs' {
            [CompletionResult]::new('issue', 'issue', [CompletionResultType]::ParameterValue, 'Obtain a certificate for *.DOMAIN and DOMAIN from an ACME CA through DNS-01')
            [CompletionResult]::new('renew', 'renew', [CompletionResultType]::ParameterValue, 'Renew the ACME certificate if it is due (safe to run from cron or a timer)')
            [CompletionResult]::new('self-signed', 'self-signed', [CompletionResultType]::ParameterValue, 'Issue a wildcard certificate for *.DOMAIN and DOMAIN from a local CA in the state dir')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Install a certificate chain and key you already have (PEM files)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the installed certificate: names, issuer, validity, renewal date, files')
            break
        }
        'pgs;help;certs;issue' {
            break
        }
        'pgs;help;certs;renew' {
            break
        }
        'pgs;help;certs;self-signed' {
            break
        }
        'pgs;help;certs;import' {
            break
        }
        'pgs;help;certs;status' {
            break
        }
        'pgs;help;backup' {
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Turn backups on for a tenant created before (or every tenant): restarts it with WAL archiving, then takes a full backup')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Take a backup now')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List a tenant''s backups and archived WAL')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'The restore drill: recover a throwaway copy to a random moment of the restorable window (checked), then to the latest state, check every database, record')
            break
        }
        'pgs;help;backup;enable' {
            break
        }
        'pgs;help;backup;run' {
            break
        }
        'pgs;help;backup;list' {
            break
        }
        'pgs;help;backup;verify' {
            break
        }
        'pgs;help;restore' {
            break
        }
        'pgs;help;clone' {
            break
        }
        'pgs;help;swarm' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Make the Docker engine pgs uses a swarm manager (or adopt the swarm it manages); this host becomes node "local", where the state dir stays')
            break
        }
        'pgs;help;swarm;init' {
            break
        }
        'pgs;help;node' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Adopt another host''s Docker engine as node NAME: it joins the swarm (unless it is in it) and gets the tenant image')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the nodes: state in the swarm, tenants, memory')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a node without tenants: it leaves the swarm')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Bring the gateways of one node or every node up to date now: their files, and their binary (replaced without refusing a connection)')
            [CompletionResult]::new('drain', 'drain', [CompletionResultType]::ParameterValue, 'Switch every HA primary on the node over to its standby (before a reboot); lists the tenants without HA that stay there')
            break
        }
        'pgs;help;node;add' {
            break
        }
        'pgs;help;node;list' {
            break
        }
        'pgs;help;node;remove' {
            break
        }
        'pgs;help;node;sync' {
            break
        }
        'pgs;help;node;drain' {
            break
        }
        'pgs;help;move' {
            break
        }
        'pgs;help;ha' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Start the store (an etcd member on every node, three or more) and the agent on every node')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Give an existing tenant a synchronous standby on another node (streamed from the running primary)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Remove a tenant''s standby; the primary stays where it runs (its node becomes the tenant''s)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Primary, standby, replication, sync state, lag, epoch and last failover of each HA tenant')
            break
        }
        'pgs;help;ha;init' {
            break
        }
        'pgs;help;ha;enable' {
            break
        }
        'pgs;help;ha;disable' {
            break
        }
        'pgs;help;ha;status' {
            break
        }
        'pgs;help;switchover' {
            break
        }
        'pgs;help;agent' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the agent of one node in the foreground')
            break
        }
        'pgs;help;agent;run' {
            break
        }
        'pgs;help;api' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Serve the HTTP API in the foreground until SIGINT/SIGTERM (HTTP on loopback, HTTPS elsewhere)')
            [CompletionResult]::new('openapi', 'openapi', [CompletionResultType]::ParameterValue, 'Print the API''s OpenAPI document (also served at /v1/openapi.json)')
            break
        }
        'pgs;help;api;run' {
            break
        }
        'pgs;help;api;openapi' {
            break
        }
        'pgs;help;token' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Make a token (printed once; only its hash is kept)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the tokens (names and access, never the tokens)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a token: it stops working at once')
            break
        }
        'pgs;help;token;create' {
            break
        }
        'pgs;help;token;list' {
            break
        }
        'pgs;help;token;revoke' {
            break
        }
        'pgs;help;completions' {
            break
        }
        'pgs;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
