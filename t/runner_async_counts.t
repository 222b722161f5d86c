#!/usr/bin/perl

# The status's stored asynchronous invocations by state, with the SQLite
# store. Each status answer counted the store's rows (SELECT ... GROUP BY
# state) in the runner's event loop: with a day of results retained (a
# million rows) every scrape of the status stopped every request for
# about 75 ms. Promise: the counts are kept as rows change (the runner's
# own writes: enqueue, claim, retry, fail, ack, purge) and counted again
# only when another process wrote the store; they always equal what the
# store holds; a status answer costs the same with 400,000 rows as with
# none.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;
use Time::HiRes qw(time sleep);

FaasTest::need(-x '/usr/bin/sqlite3', 'the sqlite3 command (make test-deps)');

my $t = FaasTest->new;
$t->cgi_answer_function('ok', '200 OK');
$t->cgi_answer_function('bad', '500 No');
# one running and the others queued behind it, until the test puts
# "release" in its folder
my $hdir = $t->function('held', "exec = ./run.sh\nmode = cgi\n"
                        . "max_instances = 1\ntimeout = 5m\n",
             'run.sh' => "#!/bin/sh\ncat > /dev/null\n"
                       . "while [ ! -e release ]; do sleep 0.1; done\n"
                       . "printf 'Content-Type: text/plain\\r\\n\\r\\n"
                       . "released\\n'\n");

my $conf = "async_retries = 1\nasync_backoff = 100ms\n";
my $nginx = $t->faas_location(extra => FaasTest::async_location() . <<'EOF');
        location = /faas/status {
            faas_status;
            faas_pass runner;
        }
EOF
$t->start_runner(conf => $conf);
$t->start_nginx($nginx);

my $db = $t->prefix . '/state/async.db';

sub sql {
    my ($q, $rw) = @_;
    my $ro = $rw ? '' : '-readonly';
    my $out = `sqlite3 -cmd '.timeout 5000' $ro $db "$q" 2>&1`;
    chomp $out;
    return $out;
}

# the store's own count: queued, running, succeeded, failed
sub stored {
    my %n = map { split /\|/ } split /\n/,
        sql("SELECT state, COUNT(*) FROM invocations GROUP BY state");
    return join ' ', map { $n{$_} // 0 } 0 .. 3;
}

sub status {
    my $r = $t->http_get('/faas/status');
    my $s = eval { decode_json($r->{body}) } or return 'no status';
    my $a = $s->{runner}{async_invocations};
    return join ' ', map { $a->{$_} // '-' }
        qw(queued running succeeded failed);
}

# the status's counts against the store's, taken when the store did
# not change around the status (rows move while the test looks)
sub same_counts {
    my ($what) = @_;
    my ($before, $seen, $after);
    for (1 .. 40) {
        $before = stored();
        $seen = status();
        $after = stored();
        last if $before eq $after && $seen eq $after;
        sleep 0.1;
    }
    is($seen, $after, "$what: the status's counts are the store's ($after)");
}

for my $fn (('ok') x 5, ('bad') x 3, ('held') x 3) {
    is($t->http_post("/async/$fn", "x")->{status}, 202, "$fn: accepted");
}

ok(FaasTest::wait_for(sub { stored() =~ /^\d+ \d+ 5 3$/ }, 30),
   'five succeeded, three failed after their retry')
    or diag(stored());
same_counts('enqueued, claimed, retried, failed, succeeded');
like(status(), qr/^2 1 5 3$/, '... held: one running, two queued');

# the runner's CPU time (utime + stime, seconds) for 20 status answers:
# CPU, not a wall clock, so that a busy machine does not make it
sub status_cpu {
    my $pid = $t->runner_pid;
    my $cpu = sub { my @f = split ' ', (FaasTest::read_file("/proc/$pid/stat")
                                       =~ s/^.*\) //sr);
                    ($f[11] + $f[12]) / 100 };
    my $c0 = $cpu->();
    status() for 1 .. 20;
    return $cpu->() - $c0;
}

# another process writes the store (as an old runner does at an
# upgrade): 400,000 results of an hour ago
my $base = status_cpu();
my $now = int(time * 1e6) - 3600e6;
is(sql("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
       . "WHERE x < 400000) INSERT INTO invocations (id, function, trigger, "
       . "state, attempts, status, created, finished, next_at, params, body) "
       . "SELECT printf('x%031d', x), 'ok', 'async', 2, 1, 200, $now, $now, "
       . "$now, X'', X'' FROM c", 1), '', '400,000 rows written by another');
same_counts('after another process wrote');
like(status(), qr/^\d+ \d+ 400005 3$/, '... 400,005 succeeded');
my $after = status_cpu();
# counting 400,000 rows for each answer: about 30 ms of CPU each
cmp_ok($after, '<', 2 * $base + 0.15,
       sprintf('20 status answers with 400,000 rows cost the runner about '
               . 'what they did with none (%.2f s of CPU, %.2f s before)',
               $after, $base));

# held let go: its three succeed, one after the other
FaasTest::write_file("$hdir/release", '');
ok(FaasTest::wait_for(sub { stored() eq '0 0 400008 3' }, 30),
   'held: released, its three succeeded')
    or diag(stored());
same_counts('after held');

# the purge (at a runner's start, then each minute) deletes results
# older than async_retention: half of them made a day and an hour old
$t->stop_runner;
my $old = $now - 86400e6;
is(sql("UPDATE invocations SET finished = $old WHERE id LIKE 'x%' "
       . "AND rowid % 2 = 0", 1), '', 'half of them made older');
$t->start_runner(conf => $conf);
ok(FaasTest::wait_for(sub { stored() eq '0 0 200008 3' }, 30),
   'the runner purged them')
    or diag(stored());
same_counts('after the purge');

for my $fn (('ok') x 2, 'bad') {
    is($t->http_post("/async/$fn", "x")->{status}, 202, "$fn: accepted");
}
ok(FaasTest::wait_for(sub { stored() eq '0 0 200010 4' }, 30),
   'two more succeeded, one more failed')
    or diag(stored());
same_counts('after a purge, more of each');

done_testing;
