#!/usr/bin/perl

# Functions that flood: stderr while the client does not read, stderr
# with nobody to take it, raw bytes on a FastCGI worker's own fd 2, and
# stdout to a client that never reads. Promise: the runner's memory
# stays small (backpressure on stderr as on stdout), what reaches its
# log is escaped (no raw control bytes, no forged lines) and bounded
# (a rate per worker), the slot is freed, other functions answer.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep);

# resident memory is measured: the plain build (ASan keeps freed memory)
my $t = FaasTest->new(runner => FaasTest::memory_runner());
my $fn = $t->testfn;

my $head = "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'";
$t->function('errflood', "exec = ./run.sh\nmode = cgi\ntimeout = 5s\n",
             'run.sh' => "#!/bin/sh\n$head\n"
                       . "yes 'stderr flood line to nobody' >&2\n");
$t->function('outflood', "exec = ./run.sh\nmode = cgi\ntimeout = 5s\n",
             'run.sh' => "#!/bin/sh\n$head\nyes 'stdout flood'\n");
$t->function('errlog', "exec = ./run.sh\nmode = cgi\nmax_instances = 1\n"
             . "timeout = 3s\n",
             'run.sh' => "#!/bin/sh\n$head\nexec >&-\n"
                       . "yes \"\$(printf 'esc \\033[31m \\\"forged\\\" "
                       . "[alert] x')\" >&2\n");
# a flood of the shortest lines: a log line each was 4,096 a second
$t->function('shortlog', "exec = ./run.sh\nmode = cgi\nmax_instances = 1\n"
             . "timeout = 3s\n",
             'run.sh' => "#!/bin/sh\n$head\nexec >&-\nyes a >&2\n");
# a megabyte of stderr ending in a last line, then its answer: nginx is
# sent its first 64 KB, and its last 8 KB at the end
$t->function('errmuch', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\n$head\n"
                       . "head -c 1000000 /dev/zero | tr '\\0' e >&2\n"
                       . "echo TAIL-LINE >&2\necho done\n");
$t->function('fd2', "exec = $fn\n");
$t->function('other', "exec = $fn\n");

$t->start_runner;
$t->start_nginx($t->faas_location);

sub rss {
    my ($kb) = FaasTest::read_file('/proc/' . $t->runner_pid . '/status')
        =~ /VmRSS:\s+(\d+)/;
    return $kb // 0;
}

my $rss0 = rss();

# clients of the runner that send a request and never read
my @clients;
for my $name (qw(errflood outflood)) {
    my $c = $t->fcgi_connect;
    syswrite($c, FaasTest::fcgi_request_bytes(
                     params => FaasTest::fcgi_default_params($name)));
    push @clients, $c;
}
sleep 3;
my $rss = rss();
SKIP: {
    skip 'resident memory under ASan says nothing', 1
        unless FaasTest::rss_measured();
    ok($rss < $rss0 + 16 * 1024, "floods on stdout and stderr to clients "
       . "that do not read: runner RSS ${rss} kB (from ${rss0} kB)");
}
is($t->http_get('/fn/other')->{status}, 200, 'other functions answer');
# an invocation runs on without its client, its output dropped: to its
# timeout
close $_ for @clients;
ok(FaasTest::wait_for(sub { !$t->workers('errflood')
                            && !$t->workers('outflood') }, 15),
   'their workers end at their timeout, their clients gone');

# stderr to a client (a stock nginx logs every byte of it): the first
# 8 KB of a request and its last bytes (a traceback's end; a client
# that is not the module gets a line a record, escaped, at most 1800
# bytes, its line's end nginx's: the tail one record), the rest counted
# in the runner's log; the answer whole
{
    my $log = length $t->runner_log;
    my $x = $t->fcgi_call('errmuch', timeout => 20);
    is($x->{stdout} =~ s/^.*?\r\n\r\n//sr, "ok\ndone\n",
       'a megabyte of stderr: the answer whole');
    is(length($x->{stderr}), 8192 + 1 + 1800, '... 10 KB of it sent');
    is($x->{stderr}, ('e' x 8192) . "\n" . ('e' x (1800 - 9)) . 'TAIL-LINE',
       '... its first bytes, then its last ones');
    is(join(',', map { length $_->[2] } grep { $_->[0] == 7 }
                 @{ $x->{records} }),
       '1800,1800,1800,1800,993,1800', '... a log line a record');
    # (with its tenant's functions', once a second)
    ok(FaasTest::wait_for(sub {
           (substr($t->runner_log, $log)
            =~ /: (\d+) bytes of (?:its )?functions' stderr not sent to nginx/)
           && $1 >= 1000000 - 9992
       }, 5), '... the rest counted in the runner\'s log');
}

# stderr with no client: escaped, bounded
my $size0 = -s "@{[ $t->prefix ]}/logs/runner.log";
my $r = $t->http_get('/fn/errlog');
is($r->{body}, "ok\n", 'the response ends with stdout, stderr still open');
sleep 3.5;
my $grew = (-s "@{[ $t->prefix ]}/logs/runner.log") - $size0;
ok($grew < 256 * 1024, "3 s of stderr flood: the log grew $grew bytes");
my $log = $t->runner_log;
like($log, qr/"errlog" \(pid \d+\) stderr: "esc \\x1b\[31m (\\x5c)?\\x22forged/,
     'escaped, quotes too');
unlike($log, qr/\e/, 'no raw escape byte in the log');
unlike($log, qr/^\[alert\]|\n[^\n]*\[alert\] x\n/, 'no forged line');
like($log, qr/"errlog" \(pid \d+\): \d+ bytes of stderr not logged/,
     'what was dropped is counted');
is($t->http_get('/fn/errlog')->{status}, 200, 'and its slot is free');

# the shortest lines: each counts its own bytes against the rate
is($t->http_get('/fn/shortlog')->{body}, "ok\n", 'a flood of "a" lines');
sleep 3.5;
my $short = () = $t->runner_log =~ /"shortlog" \(pid \d+\) stderr: "a"$/mg;
cmp_ok($short, '<=', 1000, "3 s of them: $short log lines (a line's own "
       . 'bytes count against the rate)');
cmp_ok($short, '>=', 100, '... not none');

# a FastCGI worker writing raw bytes to its own fd 2
$size0 = -s "@{[ $t->prefix ]}/logs/runner.log";
is($t->http_get('/fn/fd2?op=fd2&ms=2000')->{body}, "written\n",
   'FastCGI worker flooding its fd 2 answers');
$grew = (-s "@{[ $t->prefix ]}/logs/runner.log") - $size0;
ok($grew < 256 * 1024, "its 2 s of fd 2 flood: the log grew $grew bytes");
like($t->runner_log, qr/"fd2" \(pid \d+\) stderr: "raw \\x1b\[31m red /,
     'escaped, with the function and pid');
unlike($t->runner_log, qr/\e/, 'no raw escape byte');

# what reached nginx as STDERR records while a request was on
my $elog = $t->error_log;
unlike($elog, qr/\e/, "no raw escape byte in nginx's error log");
unlike($elog, qr/^esc/m, 'no forged line there');
ok(length($elog) < 256 * 1024, 'nginx logged a bounded amount: '
   . length($elog) . ' bytes');

$t->done;

done_testing;
