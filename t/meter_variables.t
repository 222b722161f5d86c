#!/usr/bin/perl

# Per-use metering: what each invocation used, in the $faas_* variables of
# nginx's access log; numbers checked against what the functions did.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest qw(fcgi_request_bytes);
use Test::More;
use POSIX qw(ceil);
use Time::HiRes qw(sleep);

my $t = FaasTest->new;
my $fn = $t->testfn;
my $p = $t->prefix;

$t->function('m', "exec = $fn\ntenant = acme\nmemory = 512M\n");
$t->function('mnone', "exec = $fn\nisolation = none\n");
$t->function('slow', "exec = $fn\ntimeout = 1s\n");
$t->function('one', "exec = $fn\nmax_instances = 1\nqueue = 0\n");
$t->function('cgi', "exec = ./c.sh\nmode = cgi\nuser = nobody\n",
             'c.sh' => "#!/bin/sh\ni=0; while [ \$i -lt 20000 ]; do "
                     . "i=\$((i+1)); done\nprintf 'Content-Type: text/plain"
                     . "\\r\\n\\r\\ncounted\\n'\n");
$t->start_runner(conf => "limit_isolation = none\n");
$t->{port} = FaasTest::free_port();

my $sock = $t->socket_path;
$t->start_nginx(<<"EOF");
@{[ FaasTest::meter_log_format() ]}

    upstream runner { server unix:$sock; keepalive 8; }
    upstream nowhere { server unix:$p/nothing.sock; }

    server {
        listen 127.0.0.1:$t->{port};

        location /fn/ {
            faas_route ^/fn/(?<name>[a-z]+)\$ \$name;
            faas_pass runner;
            access_log $p/logs/meter.log faas_meter;
        }

        location /down/ {
            faas_function m;
            faas_pass nowhere;
            access_log $p/logs/meter.log faas_meter;
        }

        location /impatient/ {
            faas_function m;
            faas_pass runner;
            faas_read_timeout 300ms;
            access_log $p/logs/meter.log faas_meter;
        }
    }
EOF

my $n = 0;

# the log line of the $n-th request, as a hash
sub logged { FaasTest::log_line("$p/logs/meter.log", $_[0], 5) }

sub get {
    my ($uri) = @_;
    my $r = $t->http_get($uri);
    $n++;
    return ($r, logged($n));
}

my ($r, $l) = get('/fn/m');
like($r->{body}, qr/\Apid=\d+\n\z/,
     'body untouched: no record reaches the client');
is($l->{function}, 'm', 'function');
is($l->{tenant}, 'acme', 'tenant');
is($l->{outcome}, 'ok', 'outcome ok');
is($l->{cold}, 1, 'first call: cold');
ok($l->{init} > 0, "init > 0 ($l->{init} ms)");
like($l->{init}, qr/^\d+\.\d{3}$/, 'milliseconds with three decimals');
is($l->{memory_size}, 512 * 1024, 'memory_size in kB');
my ($pid) = $r->{body} =~ /pid=(\d+)/;
my @mw = $t->workers('m');
is($l->{worker}, $mw[0], "worker is the runner's worker that answered");
is($pid, 2, '... which, in its pid namespace, is process 2');

($r, $l) = get('/fn/m');
is($l->{cold}, 0, 'second call: warm');
is($l->{init}, '0.000', 'init 0.000 when warm');
is($l->{queue}, '0.000', 'no queue wait');

($r, $l) = get('/fn/m?op=sleep&ms=300');
ok($l->{duration} >= 300 && $l->{duration} < 400,
   "sleeping 300 ms: duration $l->{duration} in [300, 400)");
is($l->{billed}, sprintf('%d.000', ceil($l->{duration})),
   'billed = duration rounded up to whole ms');
ok($l->{cpu} < 50, "sleeping burns little CPU ($l->{cpu} ms)");

($r, $l) = get('/fn/m?op=burn&ms=300');
ok($l->{cpu} >= 250, "burning 300 ms of CPU: cpu $l->{cpu} >= 250");

($r, $l) = get('/fn/m?op=alloc&mb=100');
is($r->{body}, "alloc ok\n", 'allocated');
ok($l->{memory} >= 100 * 1024, "100 MB call: max memory $l->{memory} kB");
($r, $l) = get('/fn/m');
ok($l->{memory} < 20 * 1024, "next call: its own peak ($l->{memory} kB)");

# outcomes
($r, $l) = get('/fn/slow?op=sleep&ms=5000');
is($r->{status}, 504, 'timeout: 504');
is($l->{outcome}, 'timeout', 'outcome timeout');
ok($l->{duration} >= 900, "the timed-out time is billed ($l->{duration})");

($r, $l) = get('/fn/m?op=crash');
is($r->{status}, 502, 'crash: 502');
is($l->{outcome}, 'crashed', 'outcome crashed');

# the hostile twin of metering: CPU burnt, then a crash, is billed (its
# process is read as it dies, or its reap's rusage says)
for my $fname ('m', 'mnone') {
    ($r, $l) = get("/fn/$fname?op=crash&burn=300");
    is($l->{outcome}, 'crashed', "$fname: 300 ms of CPU, then a crash");
    ok($l->{cpu} ne '-' && $l->{cpu} >= 250 && $l->{cpu} <= $l->{duration},
       "... its CPU billed: cpu $l->{cpu}, duration $l->{duration}");
    ok($l->{memory} ne '-' && $l->{memory} > 0,
       "... its peak memory too: $l->{memory} kB");
    ok($l->{queue} ne '-' && $l->{queue} < 100,
       "... not run again on another worker (queue $l->{queue} ms)");
}
unlike($t->runner_log, qr/"m(none)?" closed the connection before answering, retrying/,
       'a warm worker that read its request and died: not retried');

($r, $l) = get('/fn/nosuch');
is($l->{status}, 404, 'unknown function: 404');
is($l->{outcome}, 'not_found', 'outcome not_found');
is($l->{function}, 'nosuch', 'with the name asked for');
is($l->{duration}, '-', 'no duration');

($r, $l) = get('/fn/-bad');
is($l->{outcome}, 'not_found', 'invalid name: not_found, from nginx');
is($l->{function}, '-', 'no function');

my $s = $t->http_start('/fn/one?op=sleep&ms=600');
sleep 0.3;
($r, $l) = get('/fn/one');
is($r->{status}, 503, 'queue full: 503');
is($l->{outcome}, 'throttled', 'outcome throttled');
FaasTest::http_finish($s);
$n++;

# what nginx saw, where the runner could not say
($r, $l) = get('/down/');
is($r->{status}, 502, 'runner unreachable: 502');
is($l->{outcome}, 'error', 'outcome error');
is($l->{function}, 'm', 'the function');
is($l->{duration}, '-', 'no duration');

($r, $l) = get('/impatient/?op=sleep&ms=1500');
is($r->{status}, 504, 'runner too slow for nginx: 504');
is($l->{outcome}, '-', 'no outcome: the run is the runner\'s to meter '
   . '(meter_log), it runs on');

# CGI: every call is cold; CPU and memory of the whole process
($r, $l) = get('/fn/cgi');
is($r->{body}, "counted\n", 'CGI answers');
is($l->{cold}, 1, 'CGI call is cold');
ok($l->{init} > 0, "CGI init > 0 ($l->{init})");
ok($l->{duration} > 0, "CGI duration ($l->{duration})");
ok($l->{cpu} > 0, "CGI cpu ($l->{cpu})");
ok($l->{memory} > 0, "CGI max memory ($l->{memory} kB)");
# one thread: the CPU of its whole process fits in its duration (the
# same span), init within it (1 ms for the clocks' edges)
cmp_ok($l->{cpu}, '<=', $l->{duration} + 1,
       "CGI cpu ($l->{cpu}) within its duration ($l->{duration})");
cmp_ok($l->{init}, '<=', $l->{duration}, 'CGI init within its duration');

# a client that does not ask never gets the record; one that asks does
for my $ask (0, 1) {
    my $c = $t->fcgi_connect;
    my $x = FaasTest::fcgi_exchange($c, fcgi_request_bytes(
        params => FaasTest::fcgi_default_params('m',
                      $ask ? (FAAS_METER => '1') : ())));
    my @types = map { $_->[0] } @{ $x->{records} };
    if ($ask) {
        is($types[-2], 100, 'asked: the record comes just before '
           . 'END_REQUEST');
        like($x->{records}[-2][2], qr/outcome\x02?ok/, 'with the outcome');
    } else {
        ok(!grep({ $_ == 100 } @types), 'not asked: no record');
    }
    close $c;
}

$t->done;

# without a measured $faas_* anywhere, the module does not ask
my $t2 = FaasTest->new;
$t2->function('m', "exec = $fn\n");
$t2->start_runner;
$t2->{port} = FaasTest::free_port();
$t2->start_nginx($t2->faas_location);
like($t2->http_get('/fn/m?op=env')->{body}, qr/PARAM FAAS_FUNCTION=m/,
     'metering not used: request goes through');
unlike($t2->http_get('/fn/m?op=env')->{body}, qr/FAAS_METER/,
       'and the runner is not asked to measure');
$t2->done;

done_testing;
