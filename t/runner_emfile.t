#!/usr/bin/perl

# Out of descriptors: a flood of connections beyond the runner's limit
# makes it rest from accepting (not spin, not die), and it serves again
# once they are gone.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(sleep);

my $t = FaasTest->new;
my $fn = $t->testfn;
$t->function('hello', "exec = $fn\n");

# the runner raises its soft limit to the hard one: set both low
my $wrap = $t->prefix . '/runner-64.sh';
FaasTest::write_file($wrap, "#!/bin/sh\nulimit -n 64\nexec "
                            . "$t->{runner_bin} \"\$@\"\n");
chmod 0755, $wrap;
$t->{runner_bin} = $wrap;
$t->start_runner;

is($t->fcgi_call('hello')->{http}{status}, 200, 'serves with 64 fds');

sub cpu_ticks {
    my @f = split ' ', (FaasTest::read_file("/proc/$_[0]/stat")
                        =~ /\) (.*)/)[0];
    return $f[11] + $f[12];
}

my @flood;
for (1 .. 150) {
    my $s = IO::Socket::UNIX->new(Peer => $t->socket_path,
                                  Type => SOCK_STREAM) or last;
    push @flood, $s;
}
ok(@flood > 64, scalar(@flood) . ' connections opened against 64 fds');

ok($t->wait_log(qr/accept4\(\) failed, not accepting for 100 ms/),
   'out of descriptors: it rests from accepting');

my $c0 = cpu_ticks($t->runner_pid);
sleep 1;
my $used = cpu_ticks($t->runner_pid) - $c0;
ok($used < 30, "and does not spin ($used ticks of CPU in 1 s)");
ok(FaasTest::proc_alive($t->runner_pid), 'alive');

close $_ for @flood;
@flood = ();

my $r;
FaasTest::wait_for(sub {
    $r = eval { $t->fcgi_call('hello', timeout => 2) };
    $r && $r->{http} && $r->{http}{status} == 200;
}, 10);
is($r->{http}{status}, 200, 'serves again once the flood is gone');

$t->done;
done_testing;
