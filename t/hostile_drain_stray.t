#!/usr/bin/perl

# A FastCGI worker that forks a child holding only its connection (not
# its listening socket nor its pipes, out of its process group: no look
# for strays finds it), then exits while the child writes STDOUT
# records of the request without end. The runner learns of the exit
# with the connection readable: what the worker sent before its end is
# read (fr_fastcgi_reaped), but never without bound. Promise: the
# runner stays up and answers another function's request meanwhile; the
# request ends (its worker is gone) with what was queued at its end.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(time sleep);

my $t = FaasTest->new;

my $worker = $FaasTest::PERL_FCGI_WORKER . <<'EOF';
use POSIX ();
while (accept(my $c, $l)) {
    binmode $c;
    my $id = 1;
    while (defined(my $h = rd($c, 8))) {
        my (undef, $type, $rid, $len, $pad) = unpack('CCnnC', $h);
        my $body = $len + $pad ? rd($c, $len + $pad) : '';
        last unless defined $body;
        if ($type == 9) {
            syswrite($c, rec(10, 0, ''));
        } elsif ($type == 1) {
            $id = $rid;
        } elsif ($type == 5 && $len == 0) {
            syswrite($c, rec(6, $id, "Content-Type: text/plain\r\n\r\n"));
            my $pid = fork // die;
            if ($pid == 0) {
                # only the connection: no pipe, no listening socket
                POSIX::setsid();
                open(STDIN, '<', '/dev/null');
                open(STDOUT, '>', '/dev/null');
                open(STDERR, '>', '/dev/null');
                close $l;
                # writers of records of its request, each write one
                # whole number of records (atomic: never interleaved)
                my $blk = rec(6, $id, 'x') x 1000;
                fork for 1 .. 3;
                my $end = time + 20;
                while (time < $end) {
                    defined(syswrite($c, $blk)) or POSIX::_exit(0);
                }
                POSIX::_exit(0);
            }
            # gone once the child writes
            select(undef, undef, undef, 1);
            POSIX::_exit(0);
        }
    }
    close $c;
}
EOF

$t->function('flood', "exec = ./w.pl\nisolation = none\ntimeout = 3s\n",
             'w.pl' => $worker);
$t->ok_function('ok', "isolation = none\n");
$t->start_runner(conf => "limit_isolation = none\n");
$t->start_nginx;

is($t->http_get('/fn/ok')->{status}, 200, 'ok answers');

my $s = $t->http_start('/fn/flood');

# another function's requests meanwhile, for 6 s: the longest wait
my ($most, $bad) = (0, 0);
my $until = time + 6;
while (time < $until) {
    my $t0 = time;
    my $r = $t->http_get('/fn/ok', timeout => 25);
    my $took = time - $t0;
    $most = $took if $took > $most;
    $bad++ unless $r && $r->{status} == 200;
    sleep(0.1);
}
is($bad, 0, 'another function answers while the children write');
cmp_ok($most, '<', 1, sprintf('... at once (the longest: %.1f s)', $most));

close $s;
$t->done;
done_testing;
