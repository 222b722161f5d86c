#!/usr/bin/perl

# faas_buffer_size: the largest header block nginx takes from a function
# (fastcgi_buffer_size's twin, one memory page by default). A function
# answering more gets a 502 from nginx, and the runner, told nginx's
# size (FAAS_HEADER_MAX), counts and meters that invocation an error as
# nginx's log does, never ok. A larger faas_buffer_size lets the same
# answer through, whole, counted ok; an asynchronous run (no nginx)
# takes up to 64 KiB.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
my $fn = $t->testfn;

# a header of QUERY_STRING bytes, then a body
$t->function('bighead', "exec = ./run.sh\nmode = cgi\n", 'run.sh' => <<'EOF');
#!/bin/sh
cat > /dev/null
printf 'Content-Type: text/plain\r\nX-Big: '
head -c "${QUERY_STRING%%&*}" /dev/zero | tr '\0' a
printf '\r\n\r\nbody\n'
EOF
$t->function('fhead', "exec = $fn\n");
# a CGI's header of 70 lines of 1,000 bytes (the runner reads a CGI's
# header block itself: past 64 KiB when nginx takes more)
$t->function('cgihuge', "exec = ./run.sh\nmode = cgi\n", 'run.sh' => <<'EOF');
#!/bin/sh
printf 'Content-Type: text/plain\r\n'
i=0
while [ $i -lt 70 ]; do
    printf 'X-Pad-%02d: ' $i; head -c 990 /dev/zero | tr '\0' p; printf '\r\n'
    i=$((i + 1))
done
printf '\r\nbody\n'
EOF

my $meter = $t->prefix . '/logs/meter.log';
$t->start_runner(conf => "meter_log = $meter\nasync_retries = 0\n");
my $log = $t->prefix . '/logs/access.log';
$t->start_nginx("    log_format b '\$uri \$status \$faas_status';\n"
                . $t->faas_location(
                      location => "access_log $log b;",
                      extra => <<"EOF" . FaasTest::async_location()));
        location /big/ {
            faas_route ^/big/(?<bname>[^/]*)\$ \$bname;
            faas_buffer_size 128k;
            faas_pass runner;
            access_log $log b;
        }
EOF

sub count {
    my ($f, $outcome) = @_;
    my $prom = `@{[ $t->runner_bin_name ]} status --listen unix:@{[
                    $t->socket_path ]} --format prometheus 2>&1`;
    my ($n) = $prom =~ /^faas_function_invocations_total\{function="$f",
                        [^}]*outcome="$outcome"\}\s(\d+)/mx;
    return $n // 0;
}

my $r = $t->http_get('/fn/bighead?2000');
is($r->{status}, 200, 'a header of 2 KB: 200 with the default size');
is($r->{body}, "body\n", '... its body');
$r = $t->http_get('/fn/bighead?6000');
is($r->{status}, 502, 'a header of 6 KB: 502 with the default size (4K)');
like($t->error_log, qr/too big header for function "bighead"/,
     '... nginx says why');
like($t->runner_log, qr/function "bighead" sent a header block over \d+ bytes/,
     '... and the runner');

$r = $t->http_get('/big/bighead?6000');
is($r->{status}, 200, 'faas_buffer_size 128k: the 6 KB header passes');
is(length(FaasTest::header($r, 'x-big') // ''), 6000, '... whole');
is($r->{body}, "body\n", '... with its body');
$r = $t->http_get('/big/fhead?op=hugehead&end=1');
is($r->{status}, 200, 'faas_buffer_size 128k: an 80 KB FastCGI header too');
is($r->{body}, "body\n", '... with its body');

$r = $t->http_get('/big/cgihuge');
is($r->{status}, 200, 'faas_buffer_size 128k: a CGI\'s 70 KB header too');
is($r->{body}, "body\n", '... with its body');
is(FaasTest::header($r, 'x-pad-69') =~ tr/p//, 990, '... its last line whole');
is($t->http_get('/fn/cgihuge')->{status}, 502, '... and 502 with the default');

is(count('bighead', 'error'), 1, 'the runner counts the 502 an error');
is(count('bighead', 'ok'), 2, '... and the others ok');
is(count('fhead', 'ok'), 1, '... the 80 KB one too (nginx took it)');
ok(FaasTest::wait_for(sub { FaasTest::read_file($log) =~ m{^/big/fhead }m },
                      5), 'access log written');
my $a = FaasTest::read_file($log);
like($a, qr{^/fn/bighead 502 error$}m, '$faas_status: error');
like($a, qr{^/big/bighead 200 ok$}m, '... ok where it passed');

# asynchronously: no nginx, 64 KiB
$r = $t->http_post('/async/bighead?6000', '');
my $id = FaasTest::header($r, 'faas-invocation-id') // 'none';
my $bin = $t->runner_bin_name;
my $cf = $t->prefix . '/runner.conf';
ok(FaasTest::wait_for(sub { `$bin invocation $id --config $cf`
                            =~ /^state: +succeeded$/m }, 10),
   'async, a 6 KB header: succeeded')
    or diag(`$bin invocation $id --config $cf 2>&1`);
ok(FaasTest::wait_for(sub { FaasTest::read_file($meter)
                            =~ /status=200 outcome=ok [^\n]*id=$id/ }, 10),
   '... metered ok');

$t->done;

done_testing;
