#!/usr/bin/perl

# The store of asynchronous invocations, one contract for both kinds:
# the embedded SQLite store (store = sqlite, in state_dir) and a shared
# PostgreSQL store (store = postgresql://..., a server the test starts
# with initdb and pg_ctl in its prefix, on a unix socket). The same
# checks run against each: accepted (202 and its id) means stored and
# run once; a crash is tried again, a 500 kept as failed and sent to
# on_failure; a schedule ticks; `fcgi-runner invocations` and
# `invocation ID` read what ran; the status counts it; a runner stopped
# with invocations queued loses none; `store migrate` is idempotent.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;
use File::Path ();
use Time::HiRes qw(sleep time);

# what each got, in its folder's out/log (FaasTest::async_script)
my $rec = FaasTest::async_script('rec');
my $flaky = FaasTest::async_script('flaky', 2);
my $doomed = FaasTest::async_script('doomed');
my $dest = FaasTest::async_script('dest');

sub contract {
    my ($kind) = @_;
    my $t = FaasTest->new;
    my $store = 'sqlite';

    if ($kind eq 'postgresql') {
        $store = $t->start_postgres;
    }

    my %dir;
    $dir{rec} = $t->function('rec', "exec = ./run.sh\nmode = cgi\n",
                             'run.sh' => $rec);
    $dir{flaky} = $t->function('flaky', "exec = ./run.sh\nmode = cgi\n",
                               'run.sh' => $flaky);
    $dir{doomed} = $t->function('doomed', "exec = ./run.sh\nmode = cgi\n"
                                . "on_failure = dest\n", 'run.sh' => $doomed);
    # a name an array literal would read as NULL
    $dir{null} = $t->function('null', "exec = ./run.sh\nmode = cgi\n",
                              'run.sh' => $rec);
    $dir{dest} = $t->function('dest', "exec = ./run.sh\nmode = cgi\n",
                              'run.sh' => $dest);
    $dir{tick} = $t->function('tick', "exec = ./run.sh\nmode = cgi\n"
                              . "schedule = \@every 1s\n", 'run.sh' => $rec);
    # one at a time, slowly: some wait in the store when the runner stops
    $dir{slow} = $t->function('slow', "exec = ./run.sh\nmode = cgi\n"
                              . "max_instances = 1\ntimeout = 5s\n",
                              'run.sh' => $rec =~ s/^printf/sleep 0.4\nprintf/mr);
    # the same, removed while some wait
    $dir{gone} = $t->function('gone', "exec = ./run.sh\nmode = cgi\n"
                              . "max_instances = 1\ntimeout = 5s\n",
                              'run.sh' => $rec =~ s/^printf/sleep 0.4\nprintf/mr);
    for my $d (values %dir) {
        mkdir "$d/out";
        chmod 0777, "$d/out";
    }

    my $lines = sub {
        grep { length } split /\n/,
            FaasTest::read_file("$dir{$_[0]}/out/log");
    };

    my $conf = "store = $store\nasync_backoff = 200ms\nasync_retries = 2\n";
    $t->start_runner(conf => $conf);
    $t->start_nginx($t->faas_location(extra => <<"EOF"));
        location /async/ {
            faas_route ^/async/(?<afn>[^/]+) \$afn;
            faas_invocation async;
            faas_pass runner;
        }
        location = /faas/status { faas_status; faas_pass runner; }
EOF

    my $cli = sub {
        my @args = @_;
        open(my $fh, '-|', $t->runner_bin_name, @args, '--config',
             $t->prefix . '/runner.conf') or die "$!";
        local $/;
        my $out = <$fh> // '';
        close $fh;
        return ($? >> 8, $out);
    };

    # --- accepted, stored, run once ----------------------------------------

    my $r;
    # the shared store is there once connected: 503 until then
    FaasTest::wait_for(sub {
        $r = $t->http_post('/async/rec', 'hello');
        $r && $r->{status} != 503;
    }, 10);
    is($r->{status}, 202, "$kind: 202 Accepted");
    my $id = FaasTest::header($r, 'faas-invocation-id') // '';
    like($id, qr/^[0-9a-f]{32}$/, "$kind: Faas-Invocation-Id");
    is($r->{body}, "{\"id\": \"$id\"}\n", "$kind: the body names it");
    ok(FaasTest::wait_for(sub { $lines->('rec') >= 1 }, 10), "$kind: it ran");
    is(($lines->('rec'))[0], "$id 1 async POST hello",
       "$kind: its id, attempt 1, trigger, method and body");

    my @ids;
    for my $i (1 .. 30) {
        my $r = $t->http_post('/async/rec', "n$i");
        push @ids, FaasTest::header($r, 'faas-invocation-id')
            if $r && $r->{status} == 202;
    }
    is(scalar @ids, 30, "$kind: 30 more accepted");
    ok(FaasTest::wait_for(sub { $lines->('rec') >= 31 }, 20),
       "$kind: and ran");
    my %ran;
    $ran{(split / /)[0]}++ for $lines->('rec');
    is(scalar(grep { ($ran{$_} // 0) == 1 } $id, @ids), 31,
       "$kind: each exactly once");

    $r = $t->http_post('/async/null', 'n');
    is($r->{status}, 202, "$kind: a function named null: accepted");
    ok(FaasTest::wait_for(sub { $lines->('null') >= 1 }, 10),
       "$kind: and run");

    $r = $t->http_post('/async/nosuch', 'x');
    is($r->{status}, 404, "$kind: an unknown function: 404");

    # --- tried again, failed, the destination --------------------------------

    $r = $t->http_post('/async/flaky', 'f');
    my $fid = FaasTest::header($r, 'faas-invocation-id') // '';
    $r = $t->http_post('/async/doomed', 'd');
    my $did = FaasTest::header($r, 'faas-invocation-id') // '';

    ok(FaasTest::wait_for(sub { $lines->('flaky') >= 2
                                && $lines->('doomed') >= 3
                                && $lines->('dest') >= 1 }, 20),
       "$kind: retried, failed, sent on");
    is(join(',', $lines->('flaky')), "$fid 1,$fid 2",
       "$kind: a crash is tried again");
    is(join(',', $lines->('doomed')), "$did 1,$did 2,$did 3",
       "$kind: a 500 three times (async_retries 2)");
    my ($outcome) = $lines->('dest');
    my $doc = eval { decode_json($outcome) } // {};
    is_deeply([@$doc{qw(id function outcome status attempts)}],
              [$did, 'doomed', 'failed', 500, 3],
              "$kind: on_failure gets the outcome");

    my ($rc, $out);
    ok(FaasTest::wait_for(sub {
        ($rc, $out) = $cli->('invocation', $fid, '--format', 'json');
        $out =~ /"state": "succeeded"/;
    }, 10), "$kind: invocation ID: succeeded");
    my $one = eval { decode_json($out) } // {};
    is_deeply([@$one{qw(id function state attempts status)}],
              [$fid, 'flaky', 'succeeded', 2, 200],
              "$kind: its id, function, state, attempts, status");
    like($one->{response} // '', qr/fine at last/, "$kind: its response");

    ok(FaasTest::wait_for(sub {
        ($rc, $out) = $cli->('invocation', $did, '--format', 'json');
        $out =~ /"state": "failed"/;
    }, 10), "$kind: invocation ID: failed");
    $one = eval { decode_json($out) } // {};
    like($one->{response} // '', qr/^Status: 500 .*\bno\b/s,
         "$kind: a failed one keeps its last attempt's answer");

    ($rc, $out) = $cli->('invocations', '--function', 'doomed', '--format',
                         'json');
    my $list = eval { decode_json($out) } // [];
    is_deeply([map { "$_->{id} $_->{state} $_->{attempts}" } @$list],
              ["$did failed 3"], "$kind: invocations --function doomed");

    ($rc, $out) = $cli->('invocation', 'f' x 32);
    is($rc, 1, "$kind: invocation of no such id: 1");

    # --- schedule ------------------------------------------------------------

    ok(FaasTest::wait_for(sub { $lines->('tick') >= 2 }, 10),
       "$kind: the schedule ticks");
    like(($lines->('tick'))[0], qr/^[0-9a-f]{32} 1 schedule POST $/,
         "$kind: FAAS_TRIGGER schedule");

    # --- status --------------------------------------------------------------

    my $st;
    ok(FaasTest::wait_for(sub {
        my $r = $t->http_get('/faas/status');
        $st = eval { decode_json($r->{body}) } // {};
        ($st->{runner}{async_invocations}{failed} // 0) >= 1
            && ($st->{runner}{async_invocations}{succeeded} // 0) >= 33;
    }, 10), "$kind: the status counts them") or diag(encode_json($st));

    # --- a runner stopped with invocations queued loses none -----------------

    my @slow;
    for my $i (1 .. 6) {
        my $r = $t->http_post('/async/slow', "s$i");
        push @slow, FaasTest::header($r, 'faas-invocation-id')
            if $r && $r->{status} == 202;
    }
    is(scalar @slow, 6, "$kind: 6 accepted for a slow function");
    FaasTest::wait_for(sub { $lines->('slow') >= 1 }, 10);
    is($t->stop_runner, 0, "$kind: the runner stops (SIGTERM)");
    my $before = () = $lines->('slow');
    ok($before < 6, "$kind: with some still queued ($before ran)");

    $t->start_runner(conf => $conf);
    ok(FaasTest::wait_for(sub { $lines->('slow') >= 6 }, 20),
       "$kind: the next runner runs the rest");
    my %slow;
    $slow{(split / /)[0]}++ for $lines->('slow');
    is(scalar(grep { ($slow{$_} // 0) >= 1 } @slow), 6,
       "$kind: every one of them ran");
    is(scalar(grep { $_ > 1 } values %slow), 0, "$kind: none twice");

    # --- queued for a function no runner loads ------------------------------
    # (removed while they waited; a loaded function's wait on). They stay
    # queued: for the function to be loaded again (the embedded store's
    # one runner; async_retention after their making they fail, 404:
    # t/runner_async_unloaded.t), or for a runner that has it (a shared
    # store's runner claims only what it has loaded)

    my (@gone, @kept);
    for my $i (1 .. 5) {
        for my $fn ('gone', 'slow') {
            my $r = $t->http_post("/async/$fn", "$fn$i");
            push @{ $fn eq 'gone' ? \@gone : \@kept },
                FaasTest::header($r, 'faas-invocation-id')
                if $r && $r->{status} == 202;
        }
    }
    is(scalar(@gone) + scalar(@kept), 10, "$kind: 5 + 5 more accepted");
    FaasTest::wait_for(sub { $lines->('gone') >= 1 }, 10);
    is($t->stop_runner, 0, "$kind: the runner stops with them queued");
    my %gran;
    $gran{(split / /)[0]}++ for $lines->('gone');
    my @waiting = grep { !$gran{$_} } @gone;
    ok(@waiting >= 1, "$kind: " . scalar(@waiting) . " of 'gone' wait");
    File::Path::remove_tree($dir{gone});
    my $mark = length $t->runner_log;
    $t->start_runner(conf => $conf);
    if ($kind eq 'sqlite') {
        ok(FaasTest::wait_for(sub { substr($t->runner_log, $mark)
            =~ /invocations of "gone" are stored and no function of its name is loaded: they wait for it/ }, 15),
           "$kind: with 'gone' removed, those wait for it (until "
           . 'async_retention), logged');
    }
    my $inv = {};
    my $want = 'queued';
    FaasTest::wait_for(sub {
        ($rc, $out) = $cli->('invocation', $waiting[-1], '--format', 'json');
        $inv = eval { decode_json($out) } // {};
        ($inv->{state} // '') eq $want }, 10);
    is($inv->{state}, $want, "$kind: ... $want, in the store");
    ok(FaasTest::wait_for(sub { my %k;
                                $k{(split / /)[0]}++ for $lines->('slow');
                                !grep { !$k{$_} } @kept }, 20),
       "$kind: a loaded function's waiting ones all ran");

    ($rc, $out) = $cli->('store', 'migrate');
    is($rc, 0, "$kind: store migrate on a store in use: 0");
    ($rc, $out) = $cli->('store', 'migrate');
    is($rc, 0, "$kind: and again");
    like($out, qr/store: \Q$kind\E/, "$kind: saying which store");

    $t->done;
}

FaasTest::need(FaasTest::pg_bin(), 'a PostgreSQL server (postgresql-15, '
               . 'make test-deps)');

contract($_) for 'sqlite', 'postgresql';

done_testing;
