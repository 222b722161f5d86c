#!/usr/bin/perl

# faas_invocation_header: a client's "Faas-Invocation: async" makes a
# request asynchronous (stored, 202, retried) only where the operator
# turned the header on; by default it is an ordinary header the
# function sees and the request runs at once. The runner takes the
# switch only from FAAS_INVOCATION, which nginx's configuration sets,
# never from HTTP_FAAS_INVOCATION: through stock fastcgi_pass the header
# changes nothing either, while fastcgi_param FAAS_INVOCATION async does.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;

# records each run: how it was triggered and the header it saw
my $dir = $t->function('rec', "exec = ./run.sh\nmode = cgi\n",
                       'run.sh' => <<'EOS');
#!/bin/sh
body=$(cat)
echo "${FAAS_TRIGGER:-sync} $body" >> out/log
printf 'Content-Type: text/plain\r\n\r\nran %s %s\n' "$body" \
    "${HTTP_FAAS_INVOCATION:-none}"
EOS
mkdir "$dir/out";
chmod 0777, "$dir/out";

sub runs {
    return grep { length } split /\n/, FaasTest::read_file("$dir/out/log");
}

$t->start_runner;
my $port2 = FaasTest::free_port();
$t->start_nginx($t->faas_location(extra => <<"EOS") . <<"EOS2");
        location /on/ {
            faas_route ^/on/(?<hfn>[^/]+) \$hfn;
            faas_invocation_header on;
            faas_pass runner;
        }
        location /off/ {
            faas_route ^/off/(?<ofn>[^/]+) \$ofn;
            faas_invocation_header off;
            faas_pass runner;
        }
EOS
    server {
        listen 127.0.0.1:$port2;
        faas_invocation_header on;

        location /inherited/ {
            faas_route ^/inherited/(?<ifn>[^/]+) \$ifn;
            faas_pass runner;
        }
        location /stock/ {
            fastcgi_pass runner;
            include /etc/nginx/fastcgi_params;
            fastcgi_param FAAS_FUNCTION rec;
        }
        location /stockasync/ {
            fastcgi_pass runner;
            include /etc/nginx/fastcgi_params;
            fastcgi_param FAAS_FUNCTION rec;
            fastcgi_param FAAS_INVOCATION async;
        }
    }
EOS2

my $async = "Faas-Invocation: async\r\n";
my $port1 = $t->port;
my $n = 0;

sub post {
    my ($port, $uri, $body, $h) = @_;
    local $t->{port} = $port;
    return $t->http_post($uri, $body, headers => $h // '', timeout => 10);
}

# --- off by default, and off where said -------------------------------------

my $r = post($port1, '/fn/rec', 'default', $async);
is($r->{status}, 200, 'the header where faas_invocation_header is not set: '
   . 'an ordinary request');
is($r->{body}, "ran default async\n", '... run at once; the function sees '
   . 'the header');
$n++;
is((runs())[-1], 'sync default', '... not as an async invocation');

$r = post($port1, '/off/rec', 'off', $async);
is($r->{status}, 200, 'faas_invocation_header off: 200');
is($r->{body}, "ran off async\n", '... run at once');
$n++;

# --- on ---------------------------------------------------------------------

$r = post($port1, '/on/rec', 'on', $async);
is($r->{status}, 202, 'faas_invocation_header on: the header makes it 202');
like(FaasTest::header($r, 'faas-invocation-id') // '', qr/^[0-9a-f]{32}$/,
     '... with its id');
$n++;
ok(FaasTest::wait_for(sub { grep { $_ eq 'async on' } runs() }, 10),
   '... and it runs as an async invocation');

$r = post($port1, '/on/rec', 'without');
is($r->{status}, 200, 'faas_invocation_header on, no header: 200');
is($r->{body}, "ran without none\n", '... run at once');
$n++;

$r = post($port1, '/on/rec', 'other', "Faas-Invocation: sync\r\n");
is($r->{status}, 200, 'faas_invocation_header on, "sync": 200');
$n++;

$r = post($port1, '/on/rec', 'upper', "faas-invocation: ASYNC\r\n");
is($r->{status}, 202, 'the name and the value in any case, as HTTP '
   . 'tokens are: 202');
$n++;
ok(FaasTest::wait_for(sub { grep { $_ eq 'async upper' } runs() }, 10),
   '... it runs');

$r = post($port2, '/inherited/rec', 'inherited', $async);
is($r->{status}, 202, 'faas_invocation_header on at server level applies '
   . 'to its locations');
$n++;
ok(FaasTest::wait_for(sub { grep { $_ eq 'async inherited' } runs() }, 10),
   '... it runs');

# --- stock fastcgi_pass: HTTP_FAAS_INVOCATION is never read ------------------

$r = post($port2, '/stock/x', 'stock', $async);
is($r->{status}, 200, 'stock fastcgi_pass, the header (as '
   . 'HTTP_FAAS_INVOCATION): an ordinary request');
is($r->{body}, "ran stock async\n", '... run at once');
$n++;

$r = post($port2, '/stockasync/x', 'param');
is($r->{status}, 202, 'stock fastcgi_pass, fastcgi_param FAAS_INVOCATION '
   . 'async: 202');
$n++;
ok(FaasTest::wait_for(sub { grep { $_ eq 'async param' } runs() }, 10),
   '... it runs');

ok(FaasTest::wait_for(sub { runs() >= $n }, 10), 'every request ran');
select undef, undef, undef, 0.5;
is(scalar(runs()), $n, '... once');
is(join(',', sort map { (split / /)[1] } grep { /^async / } runs()),
   'inherited,on,param,upper',
   'the async ones are those the configuration allowed');

$t->done;

done_testing;
