#!/usr/bin/perl

# Random FastCGI byte streams into the runner's whole request path:
# records of every type (and unknown ones), ids, lengths and paddings,
# parameters valid and not, bodies, aborts, a wrong version now and then,
# split at random offsets, the connection closed at random points;
# among them well-formed requests for functions that answer, crash, read
# their body or not. Promise: the runner stays up with no sanitizer
# report, never answers for a request id it was not given, and serves a
# plain request afterwards; no descriptor is leaked, no process is left.
#
# FUZZ_ITERATIONS (default 400) streams, seeded by FUZZ_SEED (printed,
# so that a failure can be replayed). make fuzz runs more.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest qw(fcgi_record fcgi_params);
use Test::More;
use IO::Select;
use Time::HiRes qw(sleep time);

my $iterations = $ENV{FUZZ_ITERATIONS} // 400;
my $seed = $ENV{FUZZ_SEED} // (time ^ $$) & 0xffffff;
srand($seed);
diag("FUZZ_SEED=$seed FUZZ_ITERATIONS=$iterations");
alarm(60 + $iterations);

my $t = FaasTest->new;
my $fn = $t->testfn;
$t->function('echo', "exec = $fn\nmax_instances = 3\ntimeout = 3s\n");
$t->function('cgi', "exec = ./run.sh\nmode = cgi\nmax_instances = 3\n"
             . "timeout = 3s\n",
             'run.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n"
                       . "\\r\\n'\nhead -c 100\n");
$t->start_runner(log_level => 'error');

local $SIG{PIPE} = 'IGNORE';

my $fds0 = $t->runner_fds;

sub pick { $_[int rand @_] }

sub rand_bytes { join '', map { chr int rand 256 } 1 .. $_[0] }

sub rand_params {
    my @p = (FAAS_FUNCTION => pick('echo', 'cgi', 'nosuch', '../x', '',
                                   'x' x 70),
             QUERY_STRING => pick('op=echo', 'op=pid', 'op=crash',
                                  'op=sleep&ms=50', 'op=early&n=3000', ''),
             REQUEST_METHOD => pick('GET', 'POST', 'HEAD'));
    push @p, 'X' . int(rand 1000), rand_bytes(int rand 300) for 1 .. rand 4;
    my $s = fcgi_params(@p);
    # now and then a pair whose lengths lie
    substr($s, int rand length $s, 1, chr int rand 256) if rand() < 0.15;
    return $s;
}

sub rand_record {
    my ($id) = @_;
    my $type = pick(1 .. 11, 1, 4, 4, 5, 5, 5, 0, 12, 100, 255);
    my $content = $type == 1
        ? pack('nCx5', pick(1, 1, 1, 2, 3, 0), int rand 2)
        : $type == 4 ? rand_params()
        : rand_bytes(pick(0, 0, 1, 7, 100, 5000));
    my $r = fcgi_record($type, pick($id, $id, $id, 0, $id + 1, 65535),
                        $content, int rand 9);
    substr($r, 0, 1, chr pick(2, 0, 255)) if rand() < 0.02;
    return $r;
}

sub well_formed {
    my ($id) = @_;
    return FaasTest::fcgi_request_bytes(id => $id, keep => int rand 2,
        params => FaasTest::fcgi_default_params(pick('echo', 'cgi'),
            QUERY_STRING => pick('op=echo', 'op=pid', 'op=crash'),
            REQUEST_METHOD => 'POST'),
        stdin => rand_bytes(int rand 3000));
}

my ($streams, $bytes, $answers, $foreign) = (0, 0, 0, 0);

for my $i (1 .. $iterations) {
    my $id = 1 + int rand 3;
    my $stream = '';
    $stream .= rand() < 0.5 ? well_formed($id) : rand_record($id)
        for 1 .. 1 + int rand 6;

    my $s = $t->fcgi_connect;
    $s->blocking(0);
    my $sel = IO::Select->new($s);
    my $close_at = rand() < 0.3 ? int rand length $stream : -1;
    my ($off, $in, $end) = (0, '', time + 3);

    while (time < $end) {
        if ($off < length $stream) {
            my $n = 1 + int rand 700;
            $n = $close_at - $off if $close_at >= $off
                                     && $off + $n > $close_at;
            last if $close_at >= 0 && $off >= $close_at;
            my $w = syswrite($s, substr($stream, $off, $n));
            $off += $w if $w;
        }
        if ($sel->can_read($off < length $stream ? 0 : 0.2)) {
            my $n = sysread($s, my $buf, 65536);
            last unless $n;
            $in .= $buf;
        } elsif ($off >= length $stream) {
            last;
        }
    }
    close $s;

    $streams++;
    $bytes += length $stream;

    # the runner's answers: records for the ids it was given, or 0
    my %given = map { $_ => 1 } (0, $id, $id + 1, 65535);
    while (length $in >= 8) {
        my ($v, $type, $rid, $len, $pad) = unpack('CCnnC', $in);
        last if length $in < 8 + $len + $pad;
        substr($in, 0, 8 + $len + $pad, '');
        $answers++;
        $foreign++ unless $given{$rid} && $v == 1;
    }
}

diag("$streams streams, $bytes bytes, $answers records answered");
is($foreign, 0, 'no answer for a request id that was not sent, '
   . 'none of another FastCGI version');
ok(kill(0, $t->runner_pid), 'the runner is up');

my $r = $t->fcgi_call('echo', params => [ QUERY_STRING => 'op=pid' ]);
is($r->{http}{status}, 200, 'and serves a plain request');

ok(FaasTest::wait_for(sub {
       $t->runner_fds <= $fds0 + 5 * ($t->workers('echo') + 0) + 2 }, 10),
   'no descriptor leaked (' . $t->runner_fds . " open, $fds0 at rest)");

$t->done;

done_testing;
