#!/usr/bin/perl

# A CGI that answers early: it closes its output and works on (the CGI
# way to do what PHP's fastcgi_finish_request() does). Promise: its
# client has the response at once; what it does after is metered into
# meter_log as a run of its own (trigger=after_response, its CPU and
# duration, outcome ok) when it exits, or as a timeout when it outlives
# its function's timeout (then killed, logged, and its slot freed); the
# same for a client that left. It was billed nowhere and killed without
# a word at the timeout.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(time);
use JSON::PP;

my $t = FaasTest->new;
my $p = $t->prefix;
my $meter = "$p/meter.log";
my $acc = "$p/logs/access.log";

# burns a second of CPU, answers, closes its output, burns two more,
# says it ended
my $early = <<'EOS';
#!/bin/sh
perl -MTime::HiRes=time -e '$e = time + 1; 1 while time < $e'
printf 'Content-Type: text/plain\r\n\r\nearly\n'
exec >&- 2>&-
perl -MTime::HiRes=time -e '$e = time + 2; 1 while time < $e;
  open F, ">", "out/done"'
EOS
# answers, closes its output, sleeps past its timeout
my $hang = <<'EOS';
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\nhang\n'
exec >&- 2>&-
exec sleep 60
EOS
my %dir;
$dir{early} = $t->function('early', "exec = ./run.sh\nmode = cgi\n"
                           . "user = nobody\ntimeout = 20s\n",
                           'run.sh' => $early);
$dir{hang} = $t->function('hang', "exec = ./run.sh\nmode = cgi\n"
                          . "user = nobody\ntimeout = 2s\nmax_instances = 1\n",
                          'run.sh' => $hang);
for my $d (values %dir) {
    mkdir "$d/out";
    chmod 0777, "$d/out";
}

$t->start_runner(conf => "meter_log = $meter\n");
$t->start_metered_nginx("$acc");

sub meter_lines {
    my ($fn) = @_;
    return grep { /function=\Q$fn\E / }
           split /\n/, (FaasTest::read_file($meter) // '');
}

my $r = $t->http_get('/fn/early', timeout => 20);
is($r->{status}, 200, 'answered');
is($r->{body}, "early\n", '... the whole response');
ok(!-e "$dir{early}/out/done", '... before the work after it ended');
ok(FaasTest::wait_for(sub { -e "$dir{early}/out/done" }, 15),
   'the work after the response ran to its end');
ok(FaasTest::wait_for(sub { grep { /trigger=after_response/ }
                                 meter_lines('early') }, 10),
   'it is metered in meter_log') or diag($t->runner_log);
my ($line) = grep { /trigger=after_response/ } meter_lines('early');
$line //= '';
like($line, qr/ status=200 outcome=ok /, '... with its client\'s status, ok');
my ($cpu) = $line =~ / cpu=([\d.]+)/;
cmp_ok($cpu // 0, '>', 1200, '... its CPU (two seconds of work): '
       . ($cpu // '-') . ' ms');
cmp_ok($cpu // 1e9, '<', 2700, '... not the second before the response '
       . 'again');
my ($dur) = $line =~ / duration=([\d.]+)/;
cmp_ok($dur // 1e9, '<', 2900, '... nor its duration: ' . ($dur // '-')
       . ' ms');
my ($acc_line) = grep { /function=early / }
                 split /\n/, FaasTest::read_file($acc);
my ($acc_cpu) = ($acc_line // '') =~ / cpu=([\d.]+)/;
cmp_ok($acc_cpu // 1e9, '<', 1700, 'the access log has the response\'s part '
       . '(' . ($acc_cpu // '-') . ' ms)');
cmp_ok($acc_cpu // 0, '>', 600, '... the second before it');
like($t->runner_log, qr/CGI function "early" \(pid \d+\) answered and works on/,
     'the runner says it works on');

# past its timeout: killed, said, metered as a timeout, its slot freed
$r = $t->http_get('/fn/hang', timeout => 20);
is($r->{body}, "hang\n", 'a CGI that answers and sleeps on: answered');
ok(FaasTest::wait_for(sub { grep { / outcome=timeout .*trigger=after_response/ }
                                 meter_lines('hang') }, 15),
   '... metered as a timeout after its response')
    or diag(FaasTest::read_file($meter) // '');
like($t->runner_log, qr/function "hang" timed out after 2000 ms, killing worker/,
     '... killed at its timeout, said');
$r = $t->http_get('/fn/hang', timeout => 20);
is($r->{body}, "hang\n", '... and its one slot serves again');

# a client that leaves before the response: the whole run is metered
my $bin = $t->runner_bin_name;
my $rep = eval { JSON::PP::decode_json(
                     scalar `$bin meter --format json $meter`) };
my %faults = map { ($_->{name} => $_->{after_response_faults}) }
             @{ $rep->{groups} // [] };
is($faults{hang}, 1, 'fcgi-runner meter: the timeout is an after_response '
   . 'fault') or diag(explain($rep));

$t->done;

done_testing;
