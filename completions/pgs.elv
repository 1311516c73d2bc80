
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
            cand remove 'Remove a tenant (keeps its data volume unless --purge)'
            cand enable-access 'Let the gateway admit a tenant''s clients'
            cand disable-access 'Refuse a tenant''s clients at the gateway'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pgs;setup'= {
            cand --domain 'Public domain; tenants are reached as TENANT.DOMAIN'
            cand --image 'Default PostgreSQL image for new tenants'
            cand --gateway-port 'Port the gateway listens on'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --self-signed 'Use a local CA and a self-signed wildcard certificate (development, tests)'
            cand -y 'Never prompt; take defaults for what is not given'
            cand --yes 'Never prompt; take defaults for what is not given'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pgs;create'= {
            cand --password 'Password for the tenant''s role (default: generated)'
            cand --image 'PostgreSQL image (default: the one chosen at setup)'
            cand --memory 'Memory limit, e.g. 512m or 2g'
            cand --cpus 'CPU limit, e.g. 1.5'
            cand --timeout 'Seconds to wait for the database to accept connections'
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand --no-access 'Create the tenant with access disabled'
            cand --adopt 'Reuse the data volume a `pgs remove` without --purge left behind'
            cand --json 'Print one JSON document on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
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
        &'pgs;remove'= {
            cand --home 'State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)'
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand --purge 'Also delete the data volume and the stored passwords (irreversible)'
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
            cand remove 'Remove a tenant (keeps its data volume unless --purge)'
            cand enable-access 'Let the gateway admit a tenant''s clients'
            cand disable-access 'Refuse a tenant''s clients at the gateway'
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
        &'pgs;help;remove'= {
        }
        &'pgs;help;enable-access'= {
        }
        &'pgs;help;disable-access'= {
        }
        &'pgs;help;completions'= {
        }
        &'pgs;help;help'= {
        }
    ]
    $completions[$command]
}
