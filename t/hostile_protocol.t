#!/usr/bin/perl

# Functions that abuse the response protocol: header blocks that are
# garbage or oversized, CR and LF injected into Status:, Location: and
# header values, a bad status, a body that never ends its header block,
# and a CGI that never reads its (large) request body. Promise: the
# client gets the documented status (502 for what is no valid header),
# never a header the function smuggled in, the same answer stock
# fastcgi_pass gives for the same function; the slot is freed, the
# runner and other functions carry on.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
my $fn = $t->testfn;

my %cgi = (
    garbage => "printf 'this is no header block\\n\\nbody\\n'",
    nocolon => "printf 'Content-Type text/plain\\r\\n\\r\\nbody\\n'",
    huge => "i=0; while [ \$i -lt 3000 ]; do printf 'X-Pad-%d: %s\\r\\n' "
          . "\$i 0123456789012345678901234567890123456789; i=\$((i+1)); "
          . "done; printf '\\r\\nbody\\n'",
    endless => "while :; do printf 'X-A: b\\r\\n'; done",
    crstatus => "printf 'Status: 200 OK\\rInjected: yes\\r\\n"
              . "Content-Type: text/plain\\r\\n\\r\\nbody\\n'",
    lfvalue => "printf 'X-Ok: a\\nInjected: yes\\r\\n"
             . "Content-Type: text/plain\\r\\n\\r\\nbody\\n'",
    crlocation => "printf 'Location: /x\\rInjected: yes\\r\\n\\r\\n'",
    badstatus => "printf 'Status: abc\\r\\nContent-Type: text/plain\\r\\n"
               . "\\r\\nbody\\n'",
    nulheader => "printf 'X-Nul: a\\0b\\r\\nContent-Type: text/plain\\r\\n"
               . "\\r\\nbody\\n'",
    noread => "printf 'Content-Type: text/plain\\r\\n\\r\\nnot reading\\n'",
);

for my $name (sort keys %cgi) {
    $t->function($name, "exec = ./run.sh\nmode = cgi\nmax_instances = 1\n"
                 . "timeout = 5s\n",
                 'run.sh' => "#!/bin/sh\n$cgi{$name}\n");
}
$t->function('other', "exec = $fn\n");

# a FastCGI worker that answers the readiness probe (and everything
# after) with garbage: it never becomes ready, so it is a start failure,
# retried with a growing delay, the waiting request answered 502 at
# once; not a respawn loop
$t->function('probegarbage', "exec = ./run.pl\nqueue_timeout = 20s\n",
    'run.pl' => "#!/usr/bin/perl\nopen(my \$l, '<&=', 0) or die;\n"
              . "while (accept(my \$c, \$l)) { syswrite(\$c, 'HTTP/1.0 200 "
              . "OK' . \"\\r\\n\" x 2); close \$c }\n");
$t->start_runner;

my $sock = $t->socket_path;
$t->{port} = FaasTest::free_port();
$t->start_nginx(<<"EOF");
    upstream runner { server unix:$sock; keepalive 8; }
    server {
        listen 127.0.0.1:$t->{port};
        client_max_body_size 0;
        location /fn/ {
            faas_route ^/fn/(?<fname>[^/]*)\$ \$fname;
            faas_pass runner;
        }
        location ~ ^/fc/(?<cname>[^/]*)\$ {
            fastcgi_pass runner;
            fastcgi_keep_conn on;
            include /etc/nginx/fastcgi_params;
            fastcgi_param FAAS_FUNCTION \$cname;
        }
    }
EOF

my %want = (
    garbage => 502, nocolon => 502, huge => 502, endless => 502,
    crstatus => 502, crlocation => 502, badstatus => 502, nulheader => 502,
    # a bare LF ends a header line in CGI (RFC 3875) as in nginx: two
    # headers, which the function could have sent anyway; nothing is
    # smuggled past a check
    lfvalue => 200,
);

for my $name (sort keys %want) {
    my $r = $t->http_get("/fn/$name", timeout => 20);
    is($r && $r->{status}, $want{$name}, "$name: $want{$name}");
    unlike($r ? $r->{raw} : '', qr/^Injected:/mi,
           "$name: no smuggled header reaches the client")
        unless $name eq 'lfvalue';
    my $s = $t->http_get("/fc/$name", timeout => 20);
    is($r && $r->{status}, $s && $s->{status},
       "$name: the same status as stock fastcgi_pass");
    is($t->http_get('/fn/other')->{status}, 200,
       "$name: other functions answer");
}

# garbage at the probe
{
    my $t0 = time;
    my $r = $t->http_get('/fn/probegarbage', timeout => 30);
    is($r && $r->{status}, 502, 'garbage at the readiness probe: 502');
    cmp_ok(time - $t0, '<', 15, '... at once, not at queue_timeout');
    $r = $t->http_get('/fn/probegarbage', timeout => 30) for 1 .. 3;
    select(undef, undef, undef, 1);
    my $spawns = () = $t->runner_log
        =~ /worker \d+ of "probegarbage" sent garbage/g;
    cmp_ok($spawns, '<=', 6, "retried with a delay, not in a loop "
           . "($spawns starts)");
    like($t->runner_log, qr/function "probegarbage" cannot start: next try/,
         'logged as a start failure');
}

# a CGI that never reads its 8 MB body: it answers, the rest is dropped
my $r = $t->http_post('/fn/noread', 'x' x 8_000_000, timeout => 30);
is($r && $r->{status}, 200, 'a CGI that never reads its body: answered');
is($r && $r->{body}, "not reading\n", 'whole');
$r = $t->http_get('/fn/noread');
is($r->{status}, 200, 'its slot is free');

like($t->runner_log, qr/CGI function "garbage" \(pid \d+\) sent an invalid/,
     'garbage logged');
ok(kill(0, $t->runner_pid), 'the runner is up');

$t->done;

done_testing;
