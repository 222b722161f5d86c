#!/usr/bin/perl

# faas_tenant NAME: a server (or location) of one customer's runs only
# that tenant's functions. Function names are the host's, first come:
# another customer may hold "alice-api" (made before alice's, or under
# any name alice's route lets through), and a route alone would run it
# on alice's site, with her visitors' cookies. Promise: a function of
# another tenant is a 404 there, as an unknown one (logged, not_found
# on the line, nothing run, nothing billed to anyone); the tenant's own
# run; a level inherits it (a location with its own faas_param too); an
# empty value (a map with no entry) runs nothing; faas_param cannot set
# the parameter. A status location there shows that tenant's view alone.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP ();

my $t = FaasTest->new;
my $log = $t->prefix . '/logs/faas.log';

sub fn {
    my ($name, $tenant) = @_;
    $t->function($name, "exec = ./run.sh\nmode = cgi\ntenant = $tenant\n",
                 'run.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain"
                           . "\\r\\n\\r\\n$name of $tenant\\n'\n");
}

fn('alice-api', 'alice');
fn('alice-blog', 'alice');
# bob's function under a name alice's route lets through
fn('alice-evil', 'bob');
fn('bob-shop', 'bob');

$t->start_runner;
$t->{port} = FaasTest::free_port();
my $sock = $t->socket_path;
$t->start_nginx(FaasTest::meter_log_format() . <<"EOF");
    upstream runner { server unix:$sock; keepalive 4; }

    map \$arg_site \$site_tenant { alice alice; default ""; }

    server {
        listen 127.0.0.1:$t->{port};
        access_log $log faas_meter;
        faas_tenant alice;

        location /fn/ {
            faas_route ^/fn/(alice-[a-z0-9-]+)\$ \$1;
            faas_pass runner;
        }

        location /own/ {
            faas_route ^/own/(.+)\$ \$1;
            faas_param X_OWN 1;
            faas_pass runner;
        }

        location /mapped/ {
            faas_route ^/mapped/(.+)\$ \$1;
            faas_tenant \$site_tenant;
            faas_pass runner;
        }

        location = /status {
            faas_status;
            faas_pass runner;
        }

        location /any/ {
            faas_route ^/any/(.+)\$ \$1;
            faas_tenant bob;
            faas_pass runner;
        }
    }
EOF

my $n = 0;
sub get {
    my $r = $t->http_get($_[0]);
    return ($r, FaasTest::log_line($log, ++$n));
}

my ($r, $l) = get('/fn/alice-api');
is($r->{status}, 200, "faas_tenant alice: alice's function runs");
is($r->{body}, "alice-api of alice\n", '... its answer');

($r, $l) = get('/fn/alice-evil');
is($r->{status}, 404, "bob's function under alice's prefix: 404");
unlike($r->{body}, qr/of bob/, '... nothing of it');
is($l->{outcome}, 'not_found', '... not_found on the line');
is($l->{duration}, '-', '... nothing billed');
my $said = q{function "alice-evil" is tenant "bob"'s, not the one faas_tenant names};
ok($t->wait_log(qr/\Q$said\E/), '... said in the runner\'s log');

($r, $l) = get('/own/bob-shop');
is($r->{status}, 404, 'a location with its own faas_param inherits it: '
   . "bob's function 404");
($r, $l) = get('/own/alice-blog');
is($r->{body}, "alice-blog of alice\n", '... alice\'s runs');

($r, $l) = get('/mapped/alice-api?site=alice');
is($r->{body}, "alice-api of alice\n", 'from a map: the tenant it gives');
($r, $l) = get('/mapped/alice-api?site=nobody');
is($r->{status}, 404, '... an empty value runs nothing');

($r, $l) = get('/any/bob-shop');
is($r->{body}, "bob-shop of bob\n", 'a location\'s own faas_tenant wins');
($r, $l) = get('/any/alice-api');
is($r->{status}, 404, '... and holds there too');

# a status location of alice's server: alice's alone
($r, $l) = get('/status?format=json');
my $j = eval { JSON::PP::decode_json($r->{body}) } // {};
is(join(',', sort map { $_->{name} } @{ $j->{functions} // [] }),
   'alice-api,alice-blog', 'faas_status under faas_tenant: its functions alone');
is(join(',', map { $_->{name} } @{ $j->{tenants} // [] }), 'alice',
   '... its tenant alone');
ok(exists $j->{runner}{pid} && !defined $j->{runner}{pid},
   '... the host\'s figures null, as in a tenant\'s view');
($r, $l) = get('/status?tenant=bob');
is($r->{status}, 404, '... another tenant asked: 404');
($r, $l) = get('/status?function=bob-shop');
is($r->{status}, 404, '... another tenant\'s function asked: 404');
($r, $l) = get('/status?function=alice-evil');
is($r->{status}, 404, '... one under its prefix of another tenant\'s: 404');

$t->done;
done_testing;
