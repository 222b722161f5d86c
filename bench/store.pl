#!/usr/bin/perl

# make bench, the stores of asynchronous invocations: SQLite (one host)
# against PostgreSQL (shared; a server started here with initdb and
# pg_ctl in a temporary prefix, on a unix socket, fsync on).
# - accept: faas_invocation async, wrk, interleaved rounds, req/s and
#   p99 of each store, and their ratio;
# - an idle runner on PostgreSQL: its 202 to the function's start
#   (NOTIFY wakes the dispatcher), median of 20;
# - three runners on one database: N invocations (100,000; 10,000 with
#   BENCH_QUICK) accepted through nginx and run; how many were claimed
#   twice while a lease was valid (the store's attempts, the runners'
#   logs).
# Appends its lines to build/bench.txt.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../t/lib", "$FindBin::Bin";
use BenchLib qw(wrk ms median);
use FaasTest;
use Time::HiRes qw(time sleep);
use Test::More ();    # FaasTest reports through it; no plan here

my $quick = $ENV{BENCH_QUICK};
my $dur = $ENV{BENCH_DURATION} // ($quick ? 2 : 8);
my $rounds = $ENV{BENCH_ROUNDS} // ($quick ? 1 : 3);
my $conns = $ENV{BENCH_CONNS} // 32;
my $fleet_n = $ENV{BENCH_FLEET} // ($quick ? 10_000 : 100_000);
# BENCH_STORE_ROWS=fleet: the fleet alone
my $only_fleet = ($ENV{BENCH_STORE_ROWS} // '') eq 'fleet';

my $B = $FaasTest::BUILD;
alarm 3600;

FaasTest::pg_bin() or die "bench: no PostgreSQL server (make test-deps)\n";

my $db = FaasTest->new(runner => "$B/fcgi-runner");
my $uri = $db->start_postgres(fsync => 1);

# the runners: one on SQLite, one on PostgreSQL, three more for the fleet
# (started when the fleet is measured: on one database, every runner with
# the function may run any of its invocations)
my %t;
sub runner {
    my ($name) = @_;
    my $t = $t{$name} //= FaasTest->new(runner => "$B/fcgi-runner");
    $t->function('evt', "exec = $B/functions/hello/hello\n"
                        . "max_instances = 4\n");
    my $d = $t->function('evts', "exec = ./run.sh\nmode = cgi\n",
                         'run.sh' => "#!/bin/sh\ndate +%s.%N >> out/t\n"
                                   . "printf 'Content-Type: text/plain"
                                   . "\\r\\n\\r\\nok\\n'\n");
    mkdir "$d/out";
    chmod 0777, "$d/out";
    my $store = $name eq 'sqlite' ? 'sqlite' : $uri;
    # the fleet logs each claim (info), to count them
    $t->start_runner(conf => "store = $store\nasync_max_queued = 0\n",
                     log_level => $name =~ /^f/ ? 'info' : 'warn');
}
runner($_) for qw(sqlite pg);
# their sockets for nginx's upstream, before they listen
for my $name (qw(f1 f2 f3)) {
    $t{$name} = FaasTest->new(runner => "$B/fcgi-runner");
}

my $n = $t{sqlite};
$n->{port} = FaasTest::free_port();
my $fleet = join "\n", map { "        server unix:$t{$_}{socket};" }
                       qw(f1 f2 f3);
$n->start_nginx(<<"EOF");
    access_log off;

    upstream sqlite { server unix:$t{sqlite}{socket}; keepalive 32; }
    upstream pg { server unix:$t{pg}{socket}; keepalive 32; }
    upstream fleet {
$fleet
        keepalive 32;
    }

    server {
        listen 127.0.0.1:$n->{port} backlog=4096;

        location /sqlite/ {
            faas_route ^/sqlite/(?<fn>[a-z]+)\$ \$fn;
            faas_invocation async;
            faas_pass sqlite;
        }
        location /pg/ {
            faas_route ^/pg/(?<fn>[a-z]+)\$ \$fn;
            faas_invocation async;
            faas_pass pg;
        }
        location /fleet/ {
            faas_route ^/fleet/(?<fn>[a-z]+)\$ \$fn;
            faas_invocation async;
            faas_pass fleet;
        }
    }
EOF
my $base = "http://127.0.0.1:$n->{port}";


# polled once a second: a psql a poll would load the machine measured
sub drained {
    my ($left, $secs) = @_;
    my $end = time + $secs;
    while (time < $end) {
        return 1 if $left->() == 0;
        sleep 1;
    }
    return 0;
}

sub sqlite_left {
    my $f = $t{sqlite}->prefix . '/state/async.db';
    my ($c) = `sqlite3 -readonly $f 'SELECT COUNT(*) FROM invocations WHERE state < 2' 2>/dev/null` =~ /(\d+)/;
    return $c // 0;
}

sub pg_left {
    my ($c) = $db->psql("SELECT count(*) FROM faas.invocations "
                        . "WHERE state < 2") =~ /(\d+)/;
    return $c // 0;
}

for my $u ('/sqlite/evt', '/pg/evt') {
    FaasTest::wait_for(sub { my $r = $n->http_get($u);
                             $r && $r->{status} == 202 }, 20)
        or die "bench: $u is not accepted\n";
}

# --- accept rate, each store; drained between rows -------------------------

my %res;
for my $round ($only_fleet ? () : 1 .. $rounds) {
    for my $s (qw(sqlite pg)) {
        my $r = wrk("$base/$s/evt", $conns, $dur);
        push @{ $res{$s} }, $r;
        printf STDERR "round %d %-6s accept %7.0f req/s, p99 %.2f ms%s\n",
            $round, $s, $r->{rps}, $r->{p99},
            $r->{bad} ? " ($r->{bad} non-2xx)" : '';
        drained($s eq 'pg' ? \&pg_left : \&sqlite_left, 600);
    }
}
my %rps = map { $_ => median(map { $_->{rps} } @{ $res{$_} }) } keys %res;
my %p99 = map { $_ => median(map { $_->{p99} } @{ $res{$_} }) } keys %res;

# --- idle runner on PostgreSQL: 202 to the function's start -----------------

my $stamps = $t{pg}->functions_dir . '/evts/out/t';
my @d;
for my $i ($only_fleet ? () : 1 .. 20) {
    my $before = () = FaasTest::read_file($stamps) =~ /\n/g;
    my $r = $n->http_get('/pg/evts');
    my $t202 = time;
    next unless $r && $r->{status} == 202;
    FaasTest::wait_for(sub { (() = FaasTest::read_file($stamps) =~ /\n/g)
                             > $before }, 5);
    my @l = split /\n/, FaasTest::read_file($stamps);
    push @d, ($l[-1] - $t202) * 1000 if @l > $before;
    sleep 0.1;
}
my $start_pg = median(@d);

# --- three runners, one database ------------------------------------------

$t{pg}->stop_runner;
runner($_) for qw(f1 f2 f3);
$db->psql("DELETE FROM faas.invocations");
my $t0 = time;
my $accepted = 0;
while ($accepted < $fleet_n && time - $t0 < 900) {
    wrk("$base/fleet/evt", $conns, 2);
    ($accepted) = $db->psql("SELECT count(*) FROM faas.invocations "
                            . "WHERE function = 'evt'") =~ /(\d+)/;
}
drained(\&pg_left, 900);
my $fleet_secs = time - $t0;
# with what was in flight when the last wrk stopped
($accepted) = $db->psql("SELECT count(*) FROM faas.invocations "
                        . "WHERE function = 'evt'") =~ /(\d+)/;
my ($done) = $db->psql("SELECT count(*) FROM faas.invocations "
                       . "WHERE function = 'evt' AND state = 2") =~ /(\d+)/;
my ($retried) = $db->psql("SELECT count(*) FROM faas.invocations "
                          . "WHERE function = 'evt' AND attempts <> 1")
                =~ /(\d+)/;
my (%claims, $expired);
for my $name (qw(f1 f2 f3)) {
    for (split /\n/, $t{$name}->runner_log) {
        $claims{$1}++ if /invocation (\w+) of "evt": attempt/;
        $expired++ if /of "evt": the lease of runner/;
    }
}
my $twice = grep { $_ > 1 } values %claims;
my %per = map { my $nm = $_; $nm => scalar(() = $t{$nm}->runner_log
                                           =~ /of "evt": attempt/g) }
          qw(f1 f2 f3);

# --- the report -------------------------------------------------------------

my $out = $only_fleet ? '' : sprintf "\nasync stores (wrk -c%d -d%ds, %d round(s), medians): "
    . "accept SQLite %.0f req/s p99 %.2f ms; PostgreSQL %.0f req/s p99 "
    . "%.2f ms; PostgreSQL / SQLite %.2f\n", $conns, $dur, $rounds,
    $rps{sqlite}, $p99{sqlite}, $rps{pg}, $p99{pg},
    $rps{sqlite} ? $rps{pg} / $rps{sqlite} : 0;
$out .= $only_fleet ? '' : sprintf "asynchronous, idle runner on PostgreSQL (NOTIFY): 202 to "
    . "the function's start (CGI sh, default isolation) %.2f ms, median "
    . "of 20\n", $start_pg;
$out .= sprintf "three runners, one PostgreSQL: %d accepted, %d run in "
    . "%.0f s (%d, %d, %d claims per runner); claimed twice while a "
    . "lease was valid: %d (leases run out: %d, attempts > 1 in the "
    . "store: %d)\n", $accepted, $done, $fleet_secs, @per{qw(f1 f2 f3)},
    $twice - ($expired // 0), $expired // 0, $retried;
print $out;
open(my $fh, '>>', "$B/bench.txt") or die;
print $fh $out;
close $fh;

$n->stop_nginx;
$t{$_}->stop_runner for grep { $_ ne 'pg' } keys %t;
$db->stop_postgres;
