#!/usr/bin/perl

# A function's response must not reframe the client's connection, nor
# escape its bill:
#   - a body longer than its Content-Length, the excess a whole HTTP
#     response: cut at the length; the next request on the connection
#     gets its own answer, never the function's forged one;
#   - a body shorter than its Content-Length: the connection is closed
#     after it, never kept for the next answer to fill the rest;
#   - "Status: 1xx" (a body after it would be read as the final
#     response), two Content-Lengths, one that is no number: 502;
#   - a header block over the buffer after 300 ms of CPU: 502, and the
#     invocation is metered all the same;
#   - a header line read alone, then the blank line and a body longer
#     than the header buffer in one read: served whole (it was a 502).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);

my $t = FaasTest->new;

sub cgi {
    my ($name, $script) = @_;
    $t->function($name, "exec = ./run.sh\nmode = cgi\n",
                 'run.sh' => "#!/bin/sh\n$script");
}

cgi('long', "printf 'Content-Length: 2\\r\\n\\r\\nokHTTP/1.1 200 OK\\r\\n"
            . "Content-Length: 6\\r\\n\\r\\nowned\\n'\n");
cgi('short', "printf 'Content-Length: 100000\\r\\n\\r\\nshort'\n");
cgi('plain', "printf 'Content-Type: text/plain\\r\\n\\r\\nplain\\n'\n");
cgi('early', "printf 'Status: 100 Continue\\r\\n\\r\\nHTTP/1.1 200 OK\\r\\n"
             . "Content-Length: 6\\r\\n\\r\\nowned\\n'\n");
cgi('twocl', "printf 'Content-Length: 2\\r\\nContent-Length: 40\\r\\n\\r\\n"
             . "ok'\n");
cgi('nancl', "printf 'Content-Length: 2x\\r\\n\\r\\nok'\n");
cgi('burnbig', <<'EOF');
i=0
end=$(( $(date +%s%N) / 1000000 + 300 ))
while [ $(( $(date +%s%N) / 1000000 )) -lt $end ]; do i=$((i+1)); done
printf 'X-Big: %05000d\r\n\r\nbody\n' 0
EOF
cgi('split', <<'EOF');
printf 'Content-Type: text/plain\r\n'
sleep 0.3
{ printf '\r\n'; head -c 12000 /dev/zero | tr '\0' x; } | cat
EOF

$t->start_runner;
my $access = $t->prefix . '/logs/meter.log';
$t->start_nginx(FaasTest::meter_log_format()
                . $t->faas_location(location => "access_log $access "
                                                . 'faas_meter;'));

# two requests on one connection, everything read until it closes
sub pipelined {
    my ($first) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$t->{port}",
                                  Timeout => 5) or die "connect: $!";
    print $s "GET /fn/$first HTTP/1.1\r\nHost: localhost\r\n\r\n"
             . "GET /fn/plain HTTP/1.1\r\nHost: localhost\r\n"
             . "Connection: close\r\n\r\n";
    my $sel = IO::Select->new($s);
    my ($in, $eof, $end) = ('', 0, time + 10);
    while (time < $end) {
        next unless $sel->can_read(0.5);
        my $n = sysread($s, my $buf, 65536);
        if (!$n) {
            $eof = 1;
            last;
        }
        $in .= $buf;
    }
    close $s;
    return ($in, $eof);
}

my ($in, $eof) = pipelined('long');
like($in, qr{^HTTP/1\.1 200 OK\r\n.*?Content-Length: 2\r\n.*?\r\n\r\nok}s,
     'a body over its Content-Length: the length it said');
unlike($in, qr/owned/, '... the excess is cut: no forged response');
like($in, qr{\r\n\r\n6\r\nplain\n\r\n0\r\n\r\n\z},
     '... the next request gets its own answer');
like($t->error_log, qr/more data than its Content-Length for function "long"/,
     '... and the cut is logged');

($in, $eof) = pipelined('short');
like($in, qr{Content-Length: 100000\r\n.*\r\n\r\nshort\z}s,
     'a body under its Content-Length: what there is');
ok($eof, '... then the connection is closed');
unlike($in, qr/plain/, '... never kept for the next answer to fill it');
like($t->error_log, qr/99995 bytes less than its Content-Length for function "short"/,
     '... and it is logged');

is($t->http_get('/fn/early')->{status}, 502, 'Status: 100: 502');
is($t->http_get('/fn/twocl')->{status}, 502, 'two Content-Lengths: 502');
is($t->http_get('/fn/nancl')->{status}, 502,
   'a Content-Length that is no number: 502');
like($t->error_log, qr/duplicate or invalid Content-Length for function "twocl"/,
     '... said');

is($t->http_get('/fn/burnbig')->{status}, 502,
   'a header over the buffer after 300 ms of CPU: 502');
ok(FaasTest::wait_for(sub { FaasTest::read_file($access)
                            =~ /function=burnbig .*outcome=error/ }, 5),
   '... logged as an error');
my ($cpu) = FaasTest::read_file($access) =~ /function=burnbig .* cpu=(\S+)/;
like($cpu // '', qr/^\d+(\.\d+)?$/, '... with its CPU time measured');
cmp_ok($cpu // 0, '>=', 100, '... all of it ( >= 100 ms)');
like($t->error_log, qr/too big header for function "burnbig"/,
     '... the reason in the error log');
unlike($t->error_log, qr/ended the request without a response/,
       '... read to its END_REQUEST, which is no missing response');

my $r = $t->http_get('/fn/split');
is($r->{status}, 200, 'a header line alone, then a long body in one read: '
   . '200');
is(length($r->{body}), 12000, '... the body whole');

$t->done;
done_testing;
