#!/usr/bin/perl

# Requests that wait: each one runs, whole, when its turn comes. A CGI
# request with no body queued behind a busy worker (its body ended
# while it waited) gets EOF on stdin at its start, never waits on it
# until its timeout; so does an async run without a body. A request
# waiting at its tenant's limits (instances, memory) runs as soon as a
# worker of another function goes idle (stopped for it), never at its
# queue_timeout's 503. A stored invocation's run waits behind the
# synchronous requests of its function, even those that came after it,
# and gives its place in a full queue to one.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep time);

my $t = FaasTest->new;
my $p = $t->prefix;

# reads its whole body (to EOF), then answers what it read
$t->function('one', "exec = ./run.sh\nmode = cgi\nmax_instances = 1\n"
             . "timeout = 8s\n", 'run.sh' => <<'EOS');
#!/bin/sh
n=$(cat | wc -c)
sleep 1
printf 'Content-Type: text/plain\r\n\r\nread %s\n' "$n"
EOS

# says in its folder's log when it ran, 1 s each
my $odir = $t->function('order', "exec = ./run.sh\nmode = cgi\n"
                        . "max_instances = 1\ntimeout = 8s\n"
                        . "queue_timeout = 20s\n", 'run.sh' => <<'EOS');
#!/bin/sh
cat > /dev/null
echo "$QUERY_STRING" >> out/ran
sleep 1
printf 'Content-Type: text/plain\r\n\r\nran %s\n' "$QUERY_STRING"
EOS
mkdir "$odir/out";
chmod 0777, "$odir/out";

# the same with room for one waiting request
my $tdir = $t->function('tight', "exec = ./run.sh\nmode = cgi\n"
                        . "max_instances = 1\nqueue = 1\ntimeout = 8s\n",
                        'run.sh' => <<'EOS');
#!/bin/sh
cat > /dev/null
echo "$QUERY_STRING" >> out/ran
sleep 1
printf 'Content-Type: text/plain\r\n\r\nran %s\n' "$QUERY_STRING"
EOS
mkdir "$tdir/out";
chmod 0777, "$tdir/out";

my $fn = $t->testfn;
for my $c (['g1', 'gamma', 200], ['g2', 'gamma', 200], ['d1', 'delta', 0],
           ['d2', 'delta', 0]) {
    my ($name, $tenant, $mem) = @$c;
    $t->function($name, "exec = $fn\nqueue_timeout = 8s\n"
                 . ($tenant ? "tenant = $tenant\n" : '')
                 . ($mem ? "memory = ${mem}M\n" : ''));
}

# a tenant of one CGI process at a time
for my $name ('cg1', 'cg2') {
    $t->function($name, "exec = ./run.sh\nmode = cgi\ntenant = cgt\n"
                 . "queue_timeout = 8s\n", 'run.sh' => <<'EOS');
#!/bin/sh
cat > /dev/null
sleep 1
printf 'Content-Type: text/plain\r\n\r\ncgi\n'
EOS
}

$t->start_runner(conf => "async_backoff = 300ms\n"
                 . "tenant.gamma.max_memory = 300M\n"
                 . "tenant.delta.max_instances = 1\n"
                 . "tenant.cgt.max_instances = 1\n");
$t->start_nginx($t->faas_location(extra => <<"EOF"));
        location /async/ {
            faas_route ^/async/(?<aname>[a-z]+)\$ \$aname;
            faas_invocation async;
            faas_pass runner;
        }
EOF

# requests sent together, each on its own connection; their answers
sub together {
    my @req = @_;
    my @s;
    for my $r (@req) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$t->{port}",
                                      Timeout => 5) or die "connect: $!";
        print $s $r;
        push @s, $s;
        sleep 0.2;
    }
    return map { FaasTest::http_exchange($_, '', timeout => 30) } @s;
}

# --- a CGI request queued with no body -------------------------------------

for my $c (['GET', "GET /fn/one HTTP/1.0\r\n\r\n"],
           ['POST, Content-Length: 0',
            "POST /fn/one HTTP/1.0\r\nContent-Length: 0\r\n\r\n"],
           ['POST with a body', "POST /fn/one HTTP/1.0\r\n"
                                . "Content-Length: 3\r\n\r\nabc"]) {
    my ($what, $req) = @$c;
    my $t0 = time;
    my @r = together($req, $req, $req);
    my $took = time - $t0;
    my $n = $what =~ /body/ ? 3 : 0;
    for my $i (0 .. 2) {
        is($r[$i] && $r[$i]{status}, 200, "$what #$i: 200");
        is($r[$i] && $r[$i]{body}, "read $n\n", "$what #$i: its whole body");
    }
    # one after the other, 1 s each: never a timeout's 8 s
    cmp_ok($took, '<', 7.5, sprintf("$what: queued ones run in turn "
                                    . "(%.1f s)", $took));
}
unlike($t->runner_log, qr/"one" timed out/, 'no run timed out');

# --- async runs with no body, queued ---------------------------------------

my @ids;
for (1 .. 3) {
    my $r = $t->http_get('/async/one');
    is($r->{status}, 202, 'async without a body: 202');
    push @ids, FaasTest::header($r, 'faas-invocation-id') // '';
}
for my $id (@ids) {
    ok($t->wait_log(qr/invocation \Q$id\E of "one": 200/, 20),
       "async $id: ran once, 200");
}
unlike($t->runner_log, qr/"one": 504 on attempt/, '... never a timeout');

# --- stored invocations behind waiting synchronous requests ---------------

{
    my $busy = $t->http_start('/fn/order?A');
    sleep 0.3;
    for my $q ('X', 'Y') {
        is($t->http_get("/async/order?$q")->{status}, 202, "async $q: 202");
    }
    sleep 0.3;
    my @r = together("GET /fn/order?B HTTP/1.0\r\n\r\n",
                     "GET /fn/order?C HTTP/1.0\r\n\r\n");
    is(join(' ', map { $_ && $_->{body} } @r), "ran B\n ran C\n",
       'B and C answered');
    FaasTest::http_finish($busy, timeout => 10);
    ok(FaasTest::wait_for(sub {
        (FaasTest::read_file("$odir/out/ran") // '') =~ tr/\n// >= 5 }, 20),
       'all five ran');
    is(join(' ', split /\n/, FaasTest::read_file("$odir/out/ran") // ''),
       'A B C X Y', 'the async ones ran behind the synchronous ones that '
       . 'came while they waited');
}

# a full queue: the stored run gives its place to the client's request
{
    my $busy = $t->http_start('/fn/tight?A');
    sleep 0.3;
    my $x = $t->http_get('/async/tight?X');
    is($x->{status}, 202, 'tight: async X while A runs');
    my $xid = FaasTest::header($x, 'faas-invocation-id') // '';
    sleep 0.3;
    my $b = $t->http_get('/fn/tight?B', timeout => 20);
    is($b->{status}, 200, 'tight: B, with X waiting in a queue of 1: 200');
    FaasTest::http_finish($busy, timeout => 10);
    ok($t->wait_log(qr/invocation \Q$xid\E of "tight": 200/, 20),
       '... and X ran later, as an attempt of its own');
}

# --- room at a tenant's limits, made by an idle worker --------------------

for my $c (['memory', 'g1', 'g2'], ['instances', 'd1', 'd2'],
           ['instances, CGI', 'cg1', 'cg2']) {
    my ($what, $busy, $next) = @$c;
    my $t0 = time;
    my @r = together("GET /fn/$busy?op=sleep&ms=1500 HTTP/1.0\r\n\r\n",
                     "GET /fn/$next HTTP/1.0\r\n\r\n");
    my $took = time - $t0;
    is($r[0] && $r[0]{status}, 200, "tenant $what: the busy one answers");
    is($r[1] && $r[1]{status}, 200, "tenant $what: the one that waited runs");
    cmp_ok($took, '<', 6, sprintf("... once the other's worker is idle, "
                                  . "not at its queue_timeout (%.1f s)",
                                  $took));
}
like($t->runner_log, qr/the limits of tenant gamma reached: stopping idle worker \d+ of "g1" for "g2"/,
     '... its idle worker stopped for it, logged');

$t->done;

done_testing;
