#!/usr/bin/perl

# faas_route and faas_function: regexes with captures and named
# captures, path_info, variables, order, server-level routes, and 404
# without asking the runner when nothing (valid) matches.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
my $fn = $t->testfn;

for my $name (qw(alpha beta v2-api users fixed hdr-x)) {
    $t->function($name, "exec = $fn\n");
}
$t->start_runner(log_level => 'debug');
$t->{port} = FaasTest::free_port();

my $sock = $t->socket_path;
my $alog = $t->prefix . '/logs/route.log';
$t->start_nginx(<<"EOF");
    upstream runner { server unix:$sock; keepalive 8; }
    log_format route 'uri=\$uri fn=\$faas_function status=\$status '
                     'outcome=\$faas_status';

    server {
        listen 127.0.0.1:$t->{port};

        faas_route ^/srv/([a-z]+)\$ \$1;

        location /fn/ {
            faas_route ^/fn/(?<name>[A-Za-z0-9_-]+)(?<path_info>/.*)?\$ \$name;
            faas_pass runner;
        }

        location /ordered/ {
            faas_route ^/ordered/special\$ beta;
            faas_route ^/ordered/(.+)\$ \$1;
            faas_pass runner;
        }

        location /api/ {
            faas_route ^/api/v(\\d+)/ v\$1-api;
            faas_pass runner;
        }

        location = /users { faas_function users; faas_pass runner; }

        # faas_function inherited: into an "if", a limit_except, a
        # nested location (where routes come first)
        location /iff/ {
            if (\$arg_go) {
                faas_pass runner;
            }
            faas_function fixed;
        }

        location = /le/ {
            faas_function fixed;
            faas_pass runner;
            limit_except GET {
                allow 127.0.0.1;
                deny all;
            }
        }

        location /outer/ {
            faas_function fixed;
            faas_pass runner;

            location /outer/inner/ {
                faas_route ^/outer/inner/(beta)\$ \$1;
                faas_pass runner;
            }

            location /outer/plain/ {
                faas_pass runner;
            }
        }

        location /hdr/ {
            faas_function hdr-\$http_x_fn;
            faas_pass runner;
        }

        location /srv/ {
            faas_pass runner;
        }

        location = /status {
            faas_status;
            faas_pass runner;
        }

        # nginx answers 413 before the module's handler runs
        location /small/ {
            client_max_body_size 10;
            faas_route ^/small/([a-z]+)\$ \$1;
            faas_pass runner;
            access_log $alog route;
        }

        location /plain/ {
            return 200 "plain\n";
            access_log $alog route;
        }

        location /nomatch/ {
            faas_route ^/nomatch/only-this\$ alpha;
            faas_pass runner;
        }
    }
EOF

sub param {
    my ($r, $k) = @_;
    return ($r->{body} =~ /^PARAM \Q$k\E=(.*)$/m)[0];
}

my $r = $t->http_get('/fn/alpha/x/y?op=env');
is($r->{status}, 200, 'named capture routes');
is(param($r, 'FAAS_FUNCTION'), 'alpha', 'to its function');
is(param($r, 'PATH_INFO'), '/x/y', 'path_info capture is PATH_INFO');
is(param($r, 'SCRIPT_NAME'), '/fn/alpha', 'the part before is SCRIPT_NAME');

$r = $t->http_get('/fn/alpha?op=env');
is(param($r, 'PATH_INFO'), '', 'no path: empty PATH_INFO');
is(param($r, 'SCRIPT_NAME'), '/fn/alpha', 'SCRIPT_NAME is the URI');

is(param($t->http_get('/ordered/special?op=env'), 'FAAS_FUNCTION'), 'beta',
   'routes are tried in order: the first match wins');
is(param($t->http_get('/ordered/alpha?op=env'), 'FAAS_FUNCTION'), 'alpha',
   'then the next');

is(param($t->http_get('/api/v2/things?op=env'), 'FAAS_FUNCTION'), 'v2-api',
   'numbered capture in the function name');

$r = $t->http_get('/users?op=env');
is(param($r, 'FAAS_FUNCTION'), 'users', 'faas_function');
is(param($r, 'SCRIPT_NAME'), '/users', 'SCRIPT_NAME of a fixed function');

is(param($t->http_get('/iff/?go=1&op=env'), 'FAAS_FUNCTION'), 'fixed',
   'faas_pass in an "if": the location\'s faas_function');
$r = $t->http_post('/le/?op=env', 'a=1');
is(param($r, 'FAAS_FUNCTION'), 'fixed',
   'a method limit_except lets through: the location\'s faas_function');
is(param($t->http_get('/le/?op=env'), 'FAAS_FUNCTION'), 'fixed',
   '... and a GET');
is(param($t->http_get('/outer/plain/x?op=env'), 'FAAS_FUNCTION'), 'fixed',
   'a nested location without routes or a function: the outer function');
is(param($t->http_get('/outer/inner/beta?op=env'), 'FAAS_FUNCTION'), 'beta',
   'one with routes of its own: its route');
is($t->http_get('/outer/inner/x?op=env')->{status}, 404,
   '... and none matching: 404, not the outer function');

is(param($t->http_get('/hdr/?op=env', headers => "X-Fn: x\r\n"),
         'FAAS_FUNCTION'), 'hdr-x', 'variables in faas_function');

is(param($t->http_get('/srv/beta?op=env'), 'FAAS_FUNCTION'), 'beta',
   'server-level route applies where a location has none');

{
    my $st = $t->http_get('/status');
    is($st->{status}, 200, 'faas_status: the runner answers');
    like($st->{body}, qr/^\{"runner":\{"version":/, '... its status, JSON');
    like($st->{body}, qr/"name":"alpha"/, '... with the functions');
}

my $reqs = () = $t->runner_log =~ /unknown function|invalid function/g;

is($t->http_get('/nomatch/other')->{status}, 404, 'no route matches: 404');
is($t->http_get('/fn/nosuch')->{status}, 404, 'unknown function: 404');
is($t->http_get('/hdr/', headers => "X-Fn: ../../x\r\n")->{status}, 404,
   'invalid name from a variable: 404');
is($t->http_get('/hdr/', headers => "X-Fn: " . ('a' x 70) . "\r\n")
   ->{status}, 404, 'overlong name: 404');
is($t->http_get('/fn/-x')->{status}, 404, 'leading dash: 404');
is($t->http_get('/fn/..%2Fx')->{status}, 404, '..%2Fx: 404');

my $reqs2 = () = $t->runner_log =~ /unknown function|invalid function/g;
is($reqs2 - $reqs, 1, 'only the valid unknown name reached the runner');
like($t->error_log, qr/invalid function name "hdr-\.\.\/\.\.\/x"/,
     'invalid name logged by nginx');

# answered by nginx before the handler: the log line names the function
$r = $t->http_post('/small/alpha', 'x' x 100);
is($r->{status}, 413, 'a body over client_max_body_size: 413');
is($t->http_post('/small/alpha', 'x' x 5)->{status}, 200, 'a small one: 200');
is($t->http_get('/plain/srv')->{status}, 200, 'a location without faas_pass');
ok(FaasTest::wait_for(sub {
       my $n = () = FaasTest::read_file($alog) =~ /\n/g; $n >= 3 }, 5),
   'logged');
my @l = split /\n/, FaasTest::read_file($alog);
is($l[0], 'uri=/small/alpha fn=alpha status=413 outcome=-',
   '413: its function named, no outcome (the runner never ran it)');
is($l[1], 'uri=/small/alpha fn=alpha status=200 outcome=ok', 'the 200 too');
is($l[2], 'uri=/plain/srv fn=- status=200 outcome=-',
   'no function where faas_pass is not (the server\'s routes are for it)');

# with the runner gone, routing answers the same: it never asked
$t->stop_runner;
is($t->http_get('/nomatch/other')->{status}, 404, 'no route, runner down: 404');
is($t->http_get('/fn/-x')->{status}, 404, 'invalid name, runner down: 404');
is($t->http_get('/fn/alpha')->{status}, 502, 'valid name, runner down: 502');

$t->done;
done_testing;
