#!/usr/bin/perl

# A FastCGI worker that answers the next request before it is sent: ids
# come in order, so with the end of one request it writes a whole answer
# for the next id. The runner gave the next request queued to the worker
# while it parsed that read, and took the rest of the read for its
# answer: a response made before the request was, billed as taking no
# time. Promise: a record for a request not yet sent retires the worker;
# the request goes to another, which answers it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep);

my $t = FaasTest->new;

# a FastCGI responder of its own, in Perl: "?forge" answers, a second
# later, its request and the one with the next id, in one write
$t->function('early', "exec = ./worker.pl\nmax_instances = 1\n",
             'worker.pl' => <<'EOF2');
#!/usr/bin/perl
use strict;
use warnings;

sub rec {
    my ($type, $id, $body) = @_;
    my $pad = (8 - length($body) % 8) % 8;
    return pack('CCnnCC', 1, $type, $id, length $body, $pad, 0) . $body
           . ("\0" x $pad);
}

sub readn {
    my ($fh, $n) = @_;
    my $b = '';
    while (length $b < $n) {
        my $got = sysread($fh, $b, $n - length $b, length $b);
        return undef unless $got;
    }
    return $b;
}

sub pairs {
    my ($s) = @_;
    my %p;
    while (length $s) {
        my @l;
        for (0, 1) {
            my $n = unpack('C', $s);
            if ($n & 0x80) { $n = unpack('N', $s) & 0x7fffffff;
                             substr($s, 0, 4) = '' }
            else { substr($s, 0, 1) = '' }
            push @l, $n;
        }
        my $k = substr($s, 0, $l[0], '');
        $p{$k} = substr($s, 0, $l[1], '');
    }
    return %p;
}

open(my $l, '<&=', 0) or die "fd 0: $!";
while (accept(my $c, $l)) {
    my ($params, %p) = ('');
    while (defined(my $h = readn($c, 8))) {
        my (undef, $type, $id, $len, $pad) = unpack('CCnnC', $h);
        my $body = $len + $pad ? readn($c, $len + $pad) : '';
        last unless defined $body;
        $body = substr($body, 0, $len);
        if ($type == 9) {
            syswrite($c, rec(10, 0, "\x0e\x01FCGI_MPXS_CONNS0"));
        } elsif ($type == 1) {
            $params = '';
        } elsif ($type == 4) {
            $params .= $body;
        } elsif ($type == 5 && $len == 0) {
            %p = pairs($params);
            my $q = $p{QUERY_STRING} // '';
            my $out;
            if ($q eq 'forge') {
                sleep 1;
                $out = rec(6, $id, "Content-Type: text/plain\r\n\r\nA\n")
                     . rec(6, $id, '') . rec(3, $id, "\0" x 8)
                     . rec(6, $id + 1, "Content-Type: text/plain\r\n\r\n"
                                       . "forged\n")
                     . rec(6, $id + 1, '') . rec(3, $id + 1, "\0" x 8);
            } else {
                $out = rec(6, $id, "Content-Type: text/plain\r\n\r\n"
                                   . "real $q\n")
                     . rec(6, $id, '') . rec(3, $id, "\0" x 8);
            }
            syswrite($c, $out);
        }
    }
}
EOF2

$t->start_runner;
$t->start_nginx;

is($t->http_get('/fn/early?warm')->{body}, "real warm\n",
   'a worker of our own answers');
my $a = $t->http_start('/fn/early?forge');
sleep 0.4;
# queued behind it (max_instances = 1): given the worker when it ends
my $b = $t->http_start('/fn/early?b');
my $ra = FaasTest::http_finish($a, timeout => 20);
my $rb = FaasTest::http_finish($b, timeout => 20);
is($ra->{body}, "A\n", 'the forging request: its own answer');
is($rb->{status}, 200, 'the next one: 200');
is($rb->{body}, "real b\n", '... from a worker it was sent to, not the '
   . 'answer made before it');
like($t->runner_log, qr/worker \d+ of "early" answered request \d+ before it was sent, retiring it/,
     'the runner says so');
is($t->http_get('/fn/early?after')->{body}, "real after\n",
   'the function serves on');

$t->done;

done_testing;
