#!/usr/bin/perl

# fcgi-runner status against a socket that is no runner of ours (a
# hostile or broken peer): the answer is capped (64 MiB, then an
# error) and the whole exchange is bounded in time (10 s), whether the
# peer floods, never answers, or trickles a byte at a time.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest qw(fcgi_record);
use IO::Socket::UNIX;
use POSIX ();
use Socket qw(SOCK_STREAM);
use Test::More;
use Time::HiRes qw(time sleep);

my $t = FaasTest->new;
my $bin = $t->runner_bin_name;
# the flood's client: the plain build under a 1 GiB address space (ASan
# reserves more than that), so a client that did not stop cannot take
# the host's memory
my $plain = "$FaasTest::BUILD/fcgi-runner";
my @fakes;

# a peer on a unix socket: accepts one connection, reads the request,
# then does $how
sub fake {
    my ($name, $how) = @_;
    my $path = $t->prefix . "/$name.sock";
    my $l = IO::Socket::UNIX->new(Local => $path, Type => SOCK_STREAM,
                                  Listen => 1) or die "listen $path: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $SIG{ALRM} = sub { POSIX::_exit(0) };
        alarm 120;
        my $c = $l->accept or POSIX::_exit(1);
        my $req = '';
        sysread($c, $req, 4096);
        $SIG{PIPE} = 'IGNORE';
        $how->($c);
        POSIX::_exit(0);
    }
    close $l;
    push @fakes, $pid;
    return "unix:$path";
}

# runs the client, at most $limit seconds (timeout(1) stops it past
# that); its exit code, stderr and time
sub status {
    my ($addr, $limit, $cmd, $pre) = @_;
    my $err = $t->prefix . '/client.err';
    my $t0 = time;
    $cmd //= $bin;
    $pre //= '';
    system("$pre timeout -s KILL $limit $cmd status --listen $addr "
           . "--format json >/dev/null 2>$err");
    my $rc = $? & 127 ? 128 + ($? & 127) : $? >> 8;
    return ($rc, FaasTest::read_file($err), time - $t0);
}

# floods STDOUT records, without end
my $flood = fake('flood', sub {
    my ($c) = @_;
    my $rec = fcgi_record(6, 1, "Status: 200 OK\r\n\r\n")
            . fcgi_record(6, 1, 'x' x 65528) x 16;
    while (1) {
        defined syswrite($c, $rec) or last;
    }
});
my ($rc, $err, $took) = status($flood, 30, $plain, 'ulimit -v 1048576;');
is($rc, 1, 'a flood: exit 1 (not killed, not 0)');
like($err, qr/an answer over 64 MiB/, '... an answer over 64 MiB');
ok($took < 25, sprintf('... at once (%.1f s)', $took));

# never answers (holds the connection open)
my $mute = fake('mute', sub { sleep 100 });
($rc, $err, $took) = status($mute, 60);
is($rc, 1, 'no answer: exit 1');
like($err, qr/before the answer ended/, '... the answer did not end');
ok($took >= 5 && $took < 40, sprintf('... after about 10 s (%.1f s)', $took));

# trickles a record's bytes, one every 2 s: each read is quick, the
# answer never ends
my $trickle = fake('trickle', sub {
    my ($c) = @_;
    my $rec = fcgi_record(6, 1, "Status: 200 OK\r\n\r\n" . '{' x 1000);
    for my $i (0 .. length($rec) - 1) {
        defined syswrite($c, substr($rec, $i, 1)) or last;
        sleep 2;
    }
});
($rc, $err, $took) = status($trickle, 60);
is($rc, 1, 'a trickle: exit 1');
like($err, qr/timed out before the answer ended/, '... timed out');
ok($took >= 5 && $took < 40,
   sprintf('... the whole exchange bounded, about 10 s (%.1f s)', $took));

for my $pid (@fakes) {
    kill 'KILL', $pid;
    waitpid($pid, 0);
}

done_testing;
