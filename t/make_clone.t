#!/usr/bin/perl

# A stranger's clone: the repository cloned into a directory only its
# owner can enter (as a clone under /root is), built there with make,
# and make run's script started from it. Promise: the build works from
# there, and the curl commands make run prints answer (nginx's workers
# and the functions run as other users, who cannot enter the clone),
# without running any function as root.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use File::Temp qw(tempdir);
use POSIX qw(:sys_wait_h setpgid);

alarm 600;

my $root = $FaasTest::ROOT;

ok(-d "$root/.git", 'the project is a git checkout')
    or BAIL_OUT('no .git: nothing to clone');

my $home = tempdir('faas-clone-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0700, $home;
my $clone = "$home/c";

my $out = `git clone -q $root $clone 2>&1`;
is($?, 0, 'cloned into a directory of mode 0700') or diag($out);

# what is not committed is not in a clone: the working tree's changes
# would not be tested, so say so
my $dirty = `git -C $root status --porcelain --untracked-files=no 2>&1`;
diag("note: uncommitted changes are not in the clone:\n$dirty") if $dirty;

$out = `make -s -C $clone all 2>&1`;
is($?, 0, 'make builds there') or diag(substr($out, -3000));
ok(-f "$clone/build/ngx_http_faas_module.so" && -x "$clone/build/fcgi-runner",
   'the module and the runner');

my $t = FaasTest->new;
my $port = FaasTest::free_port();
$t->{port} = $port;
my $log = $t->prefix . '/logs/run.out';

my $pid = fork // die;
if ($pid == 0) {
    alarm 0;
    setpgid(0, 0);
    open STDIN, '<', '/dev/null';
    open STDOUT, '>', $log;
    open STDERR, '>&', \*STDOUT;
    exec 'sh', "$clone/tools/run.sh", $port or POSIX::_exit(127);
}

ok(FaasTest::wait_for(sub {
       FaasTest::read_file($log) =~ /Ctrl-C stops it/ }, 30),
   'make run starts from the clone') or diag(FaasTest::read_file($log));

my @curl = FaasTest::read_file($log) =~ m{curl (http://127\.0\.0\.1:\d+/\S+)}g;
ok(@curl >= 3, 'and prints its curl commands');

for my $url (@curl) {
    my ($path) = $url =~ m{^http://[^/]+(/\S*)$};
    my $r = $t->http_get($path);
    my $want = $path =~ /nosuch/ ? 404 : 200;
    is($r && $r->{status}, $want, "curl $url: $want");
}

my ($run) = FaasTest::read_file($log) =~ /running from (\S+)/;
$run //= "$clone/build/run";

SKIP: {
    skip 'as root only: the users differ', 2 unless $> == 0;
    unlike(FaasTest::read_file("$run/runner.conf"), qr/user\s*=\s*root/,
           'no function is run as root to reach the clone');
    like(FaasTest::read_file($log), qr/cannot reach the checkout/,
         'it says why it runs from elsewhere');
}

kill 'INT', -$pid;
my $done = FaasTest::wait_for(sub { waitpid($pid, WNOHANG) == $pid }, 15);
ok($done, 'Ctrl-C stops it');
kill 'KILL', -$pid unless $done;

my @left;
ok(FaasTest::wait_for(sub {
       @left = grep { index(FaasTest::proc_cwd($_), $run) == 0 }
               map { m{(\d+)$} } glob '/proc/[0-9]*';
       !@left }, 10), 'nothing of it left running') or diag("left: @left");
ok(!-e $run, 'and the folder it ran from under /tmp is gone')
    if $run =~ m{^/tmp/ngx-faas-run\.};
system('rm', '-rf', $run) if $run =~ m{^/tmp/ngx-faas-run\.};
unlike(FaasTest::read_file($log), qr/has no function\.conf/,
       'every folder of the examples is a function');

done_testing;
