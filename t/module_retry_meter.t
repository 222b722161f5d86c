#!/usr/bin/perl

# Two runners behind one upstream: the first one's function crashes
# after half a header (the runner sends its measurements, then closes:
# the response had begun), and nginx tries the request on the second.
# Promise: the request's log line bills both runs (their times and CPU
# summed, the larger peak), none in meter_log: nothing ran unbilled.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $a = FaasTest->new;
my $b = FaasTest->new;
my $p = $a->prefix;
my $log = "$p/logs/faas.log";

# the same name on both: a crash on the first, an answer on the second
$a->function('flaky', "exec = @{[ $a->testfn ]}\n");
$b->ok_function('flaky');
$a->start_runner(conf => "meter_log = $p/meter-a.log\n");
$b->start_runner(conf => "meter_log = $p/meter-b.log\n");

my ($sa, $sb) = ($a->socket_path, $b->socket_path);
$a->{port} = FaasTest::free_port();
$a->start_nginx(FaasTest::meter_log_format() . <<"EOF");

    upstream runners {
        server unix:$sa;
        server unix:$sb;
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

my $r = $a->http_get('/fn/flaky?op=crashhead&burn=300');
is($r->{status}, 200, 'the second runner answered');
is($r->{body}, "ok\n", '... its body');
like($a->error_log, qr/prematurely closed|upstream/,
     'nginx saw the first runner break off');

my $line = '';
FaasTest::wait_for(sub { ($line = FaasTest::read_file($log) // '') ne '' },
                   10);
my %l = map { /^([a-z_]+)=(.*)$/ ? ($1, $2) : () } split / /, $line;
is($l{function}, 'flaky', 'one line, of the function');
is($l{outcome}, 'ok', '... the last run\'s outcome');
ok($l{cpu} =~ /^[\d.]+$/ && $l{cpu} >= 200,
   "... the first run's CPU billed too (cpu $l{cpu} ms, 300 burnt there)")
    or diag($line);
ok($l{duration} =~ /^[\d.]+$/ && $l{duration} >= $l{cpu} - 50,
   "... and its time (duration $l{duration})");
is($l{cold}, 1, '... cold');

# the first run's record went to nginx: not in meter_log as well
sleep 1;
unlike(FaasTest::read_file("$p/meter-a.log") // '', qr/function=flaky/,
       'the first runner billed nothing twice');
unlike(FaasTest::read_file("$p/meter-b.log") // '', qr/function=flaky/,
       '... nor the second');

$b->done;
$a->done;
done_testing;
