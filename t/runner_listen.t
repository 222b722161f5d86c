#!/usr/bin/perl

# The runner's unix socket. Promise: a second runner on the same path
# refuses to start and the live one keeps its socket; a stale socket is
# replaced; a file, directory or symlink at the path is left alone (the
# runner refuses); mode and owner are set on the socket itself, never
# through a link; the socket goes when the runner stops.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);

my $t = FaasTest->new;
my $fn = $t->testfn;
my $bin = $t->runner_bin_name;
my $root = ($> == 0);

$t->function('echo', "exec = $fn\n");

# the second runners' own state_dir (the default is the system's)
my $conf2 = $t->prefix . '/runner2.conf';
FaasTest::write_file($conf2, "state_dir = @{[ $t->prefix ]}/state2\n");

sub run {
    my (@args) = @_;
    # a runner that wrongly starts is stopped: this must not hang
    my $cmd = "timeout -s KILL 10 $bin --config $conf2 @args "
            . "--functions @{[ $t->functions_dir ]} 2>&1";
    my $out = `$cmd`;
    return ($? >> 8, $out);
}

# a stale socket of an earlier run is replaced
my $stale = IO::Socket::UNIX->new(Local => $t->socket_path,
                                  Type => SOCK_STREAM, Listen => 1);
close $stale;
ok(-S $t->socket_path, 'a stale socket lies at the path');

$t->start_runner(conf => "listen_mode = 0600\n"
                         . ($root ? "listen_owner = nobody\n" : ''));
is($t->fcgi_call('echo')->{http}{status}, 200, 'stale socket replaced, '
   . 'the runner answers');

my @st = lstat $t->socket_path;
is($st[2] & 07777, 0600, 'listen_mode applied to the socket');
SKIP: {
    skip 'listen_owner needs a root runner', 1 unless $root;
    is($st[4], (getpwnam('nobody'))[2], 'listen_owner applied');
}
my @left = glob($t->prefix . '/.fcgi-runner.*');
is(scalar @left, 0, 'no private directory left beside it');

# a second runner on the same path
my ($rc, $out) = run('--listen', 'unix:' . $t->socket_path);
is($rc, 1, 'a second runner on a live socket exits 1');
like($out, qr/a runner already listens on "unix:\Q@{[ $t->socket_path ]}\E"/,
     'and says why');
is($t->fcgi_call('echo')->{http}{status}, 200, 'the live runner still '
   . 'answers on its socket');

# things at the path that are no socket are left alone
my $p = $t->prefix;
FaasTest::write_file("$p/victim", "keep me\n");
chmod 0644, "$p/victim";
symlink "$p/victim", "$p/link.sock";
FaasTest::write_file("$p/file.sock", "a file\n");
mkdir "$p/dir.sock";

for my $path ("$p/link.sock", "$p/file.sock", "$p/dir.sock") {
    ($rc, $out) = run('--listen', "unix:$path");
    is($rc, 1, "$path: refused");
    like($out, qr/exists and is not a socket/, 'because it is no socket');
}
is(FaasTest::read_file("$p/victim"), "keep me\n", 'the link target is '
   . 'untouched');
is((stat "$p/victim")[2] & 07777, 0644, 'its mode too');
ok(-l "$p/link.sock" && -f "$p/file.sock" && -d "$p/dir.sock",
   'all three still there');

# a path too long for a socket
($rc, $out) = run('--listen', 'unix:/tmp/' . ('x' x 120));
is($rc, 1, 'an overlong path: refused');
like($out, qr/listen path "\/tmp\/x+" is too long/, 'with the reason');

$t->done;
ok(!-e $t->socket_path, 'the socket goes with the runner');

done_testing;
