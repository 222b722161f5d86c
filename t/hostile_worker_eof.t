#!/usr/bin/perl

# A FastCGI worker that writes STDOUT after its own end of the stream
# (the empty STDOUT record), before END_REQUEST: what comes after the
# end is no part of the answer (the FastCGI specification ends the
# stream there). Promise: the client gets what came before the end,
# whole, the rest is dropped and said in the log, the request is
# metered as ok and the worker serves the next request.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
my $access = $t->prefix . '/logs/faas.log';

# a worker of its own: the listening socket on descriptor 0, records by
# hand (GET_VALUES answered, the request read, then the answer)
my $worker = $FaasTest::PERL_FCGI_WORKER . <<'EOF';
while (accept(my $c, $l)) {
    binmode $c;
    my ($stdin_done, $id) = (0, 1);
    while (defined(my $h = rd($c, 8))) {
        my (undef, $type, $rid, $len, $pad) = unpack('CCnnC', $h);
        my $body = $len + $pad ? rd($c, $len + $pad) : '';
        last unless defined $body;
        if ($type == 9) {                       # GET_VALUES
            syswrite($c, rec(10, 0, ''));
        } elsif ($type == 1) {                  # BEGIN_REQUEST
            $id = $rid;
        } elsif ($type == 5 && $len == 0) {     # the end of STDIN
            # "late": STDOUT after its end; "stray": an empty STDOUT
            # after END_REQUEST, in the same write
            my $late = $ARGV[0] eq 'late';
            syswrite($c, rec(6, $id, "Content-Type: text/plain\r\n\r\n"
                                     . "first\n")
                         . rec(6, $id, '')
                         . ($late ? rec(6, $id, "AFTER-EOF\n") : '')
                         . rec(3, $id, "\0\0\0\0\0\0\0\0")
                         . ($late ? '' : rec(6, $id, '')));
        }
    }
    close $c;
}
EOF

$t->function('late', "exec = ./w.pl late\n", 'w.pl' => $worker);
$t->function('stray', "exec = ./w.pl stray\n", 'w.pl' => $worker);
$t->start_runner;
$t->start_nginx(FaasTest::meter_log_format() . $t->faas_location(
    location => "access_log $access faas_meter;"));

for my $i (1, 2) {
    my $r = $t->http_get('/fn/late');
    is($r->{status}, 200, "request $i: 200");
    is($r->{body}, "first\n", '... what came before the end of STDOUT, '
       . 'nothing after it');
}
ok($t->wait_log(qr/worker \d+ of "late" wrote STDOUT after its end: dropped/),
   'said in the log');
ok(FaasTest::wait_for(sub {
       (() = (FaasTest::read_file($access) // '') =~ /function=late .*outcome=ok /g)
       == 2 }, 30), 'both metered as ok');
is(scalar $t->workers('late'), 1, 'one worker served both');

# an empty STDOUT behind END_REQUEST ends nothing of the next request
for my $i (1 .. 3) {
    my $r = $t->http_get('/fn/stray');
    is($r->{status}, 200, "stray, request $i: 200");
    is($r->{body}, "first\n", '... its answer whole');
}

$t->done;
done_testing;
