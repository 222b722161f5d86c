#!/usr/bin/perl

# Two runners behind one upstream. The first one's function crashes
# after half a header, or hangs in it past its timeout: the runner held
# the half header back, so nginx gets the runner's own 502 or 504 with
# the run's measurements, and runs it on no other runner (it did, with
# half a header: a crashed or hung GET ran twice, the client saw the
# second's answer). Promise: one run, one line, billed (its CPU), none
# in meter_log; the header that comes whole after a pause is served.
# Then the first runner is stopped: nginx tries the second, which
# answers and bills it once.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;

my $a = FaasTest->new;
my $b = FaasTest->new;
my $p = $a->prefix;
my $log = "$p/logs/faas.log";

# the same name on both: a crash on the first, an answer on the second
$a->function('flaky', "exec = @{[ $a->testfn ]}\ntimeout = 1s\n");
$b->ok_function('flaky');
$a->start_runner(conf => "meter_log = $p/meter-a.log\n");
$b->start_runner(conf => "meter_log = $p/meter-b.log\n");

my ($sa, $sb) = ($a->socket_path, $b->socket_path);
$a->{port} = FaasTest::free_port();
$a->start_nginx(FaasTest::meter_log_format() . <<"EOF");

    upstream runners {
        server unix:$sa;
        server unix:$sb backup;
    }

    server {
        listen 127.0.0.1:$a->{port};

        location /fn/ {
            faas_route ^/fn/(?<name>[a-z]+)\$ \$name;
            faas_pass runners;
            access_log $log faas_meter;
        }
    }
EOF

sub runs {
    my ($t, $outcome) = @_;
    my $s = `$FaasTest::RUNNER status --listen unix:@{[ $t->socket_path ]} --format json 2>&1`;
    my $j = eval { JSON::PP::decode_json($s) } // {};
    my ($f) = grep { $_->{name} eq 'flaky' } @{ $j->{functions} // [] };
    return $f ? $f->{invocations}{$outcome} // 0 : 0;
}

my $r = $a->http_get('/fn/flaky?op=crashhead&burn=300');
is($r->{status}, 502, 'half a header, a crash: 502');
unlike($a->error_log, qr/prematurely closed/,
       '... the runner\'s own answer, no half header to nginx');
my $l = FaasTest::log_line($log, 1);
is($l->{function}, 'flaky', 'one line, of the function');
is($l->{outcome}, 'crashed', '... crashed');
ok(($l->{cpu} // '') =~ /^[\d.]+$/ && $l->{cpu} >= 200,
   "... its CPU billed (cpu @{[ $l->{cpu} // '-' ]} ms, 300 burnt)")
    or diag(FaasTest::read_file($log));
is(runs($a, 'crashed'), 1, '... run once by the first runner');
is(runs($b, 'ok'), 0, '... never by the second');

$r = $a->http_get('/fn/flaky?op=slowhead&ms=3000');
is($r->{status}, 504, 'half a header, then nothing past the timeout: 504');
$l = FaasTest::log_line($log, 2);
is($l->{outcome}, 'timeout', '... timeout');
is(runs($a, 'timeout'), 1, '... run once (not again on its kept '
   . 'connection)');
is(runs($b, 'ok'), 0, '... nor by the second runner');

$r = $a->http_get('/fn/flaky?op=slowhead&ms=300');
is($r->{status}, 200, 'half a header, a pause, the rest: served');
is($r->{body}, "slow head\n", '... its body');
like(join(',', @{ $r->{headers}{'x-slow'} // [] }), qr/^yes$/, '... its header');
is(FaasTest::log_line($log, 3)->{outcome}, 'ok', '... ok');

# the first runner gone: nginx tries the second
$a->stop_runner;
$r = $a->http_get('/fn/flaky');
is($r->{status}, 200, 'the first runner stopped: the second answered');
is($r->{body}, "ok\n", '... its body');
$l = FaasTest::log_line($log, 4);
is($l->{outcome}, 'ok', '... one line, ok');
is($l->{cold}, 1, '... cold');

# the runs' records went to nginx: not in meter_log as well
sleep 1;
# (a worker's CPU between runs is billed there, trigger=idle)
unlike(FaasTest::read_file("$p/meter-a.log") // '',
       qr/function=flaky(?!.*trigger=idle)/,
       'the first runner billed nothing twice');
unlike(FaasTest::read_file("$p/meter-b.log") // '',
       qr/function=flaky(?!.*trigger=idle)/,
       '... nor the second');

$b->done;
$a->done;
done_testing;
