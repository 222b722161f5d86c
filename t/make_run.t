#!/usr/bin/perl

# make run's script: nginx with the module, the runner and the example
# functions answer the curl commands it prints; SIGINT stops all of it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use POSIX qw(:sys_wait_h setpgid);

my $t = FaasTest->new;
my $port = FaasTest::free_port();
$t->{port} = $port;
my $dir = $t->prefix . '/run';
my $log = $t->prefix . '/logs/run.out';

my $pid = fork // die;
if ($pid == 0) {
    setpgid(0, 0);
    open STDIN, '<', '/dev/null';
    open STDOUT, '>', $log;
    open STDERR, '>&', \*STDOUT;
    $ENV{RUN_DIR} = $dir;
    exec 'sh', "$FaasTest::ROOT/tools/run.sh", $port or POSIX::_exit(127);
}

ok(FaasTest::wait_for(sub {
       FaasTest::read_file($log) =~ /Ctrl-C stops it/ }, 20),
   'make run says it is up') or diag(FaasTest::read_file($log));

like(FaasTest::read_file($log), qr{curl http://127\.0\.0\.1:$port/fn/hello},
     'and prints the curl commands');

my $r = $t->http_get('/fn/hello');
is($r->{body}, "Hello, world\n", 'hello (C on libfcgi)');
$r = $t->http_get('/fn/hello-cgi/some/path?x=1');
like($r->{body}, qr{^Hello from CGI, GET /some/path$}m, 'hello-cgi (sh CGI)');
$r = $t->http_get('/fn/hello-php');
like($r->{body}, qr/^Hello from PHP \d/, 'hello-php (runtime = php)');
is($t->http_get('/fn/nosuch')->{status}, 404, 'unknown: 404');
ok(FaasTest::wait_for(sub {
       FaasTest::read_file("$dir/logs/faas.log") =~ /function=hello /
   }, 5), 'requests are logged with their function');

kill 'INT', -$pid;
my $done = FaasTest::wait_for(sub { waitpid($pid, WNOHANG) == $pid }, 15);
ok($done, 'Ctrl-C stops it');
kill 'KILL', -$pid unless $done;

ok(FaasTest::wait_for(sub {
       !IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1)
   }, 10), 'nginx is gone');
ok(FaasTest::wait_for(sub { !$t->leftovers }, 10), 'nothing left running')
    or diag(join ' ', $t->leftovers);
my @fdirs = ("$FaasTest::ROOT/functions/", "$dir/functions/");
my @workers;
ok(FaasTest::wait_for(sub {
       @workers = grep { my $cwd = FaasTest::proc_cwd($_);
                         grep { index($cwd, $_) == 0 } @fdirs }
                  map { m{(\d+)$} } glob '/proc/[0-9]*';
       !@workers;
   }, 10), 'no function worker left') or diag("left: @workers");

# what nginx does not see (the workers' CPU between calls, metered as
# they end) has its log: nothing is billed nowhere; the meter command
# it prints reads both
unlike(FaasTest::read_file($log), qr/billed nowhere/,
       'no run billed nowhere: make run sets meter_log');
my ($meter) = FaasTest::read_file($log) =~ /^\s*(\S+fcgi-runner meter .*)$/m;
ok($meter, 'it prints the meter command');
my $report = $meter ? qx{$meter 2>&1} : '';
is($?, 0, '... which runs');
like($report, qr/^hello\s+1\s/m, '... and counts the call to hello')
    or diag($report);

unlike(FaasTest::read_file("$dir/runner.conf"), qr/user\s*=\s*root/,
       'the functions are never run as root to make them reachable');

done_testing;
