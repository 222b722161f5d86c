#!/usr/bin/perl

# A function's folder removed and made again under the same name, by
# the operator for another customer, with no reload in between: a file
# system hands the new folder the inode number the old one had (ext4
# does at once), and the runner knows a folder by its device and inode.
#   - daemon's function "shop" is loaded and served, then goes cold
#     (its prototype stopped: nothing holds its folder);
#   - the operator removes the folder and gives the name to nobody: a
#     folder of nobody's program, no SIGHUP;
#   - the next request starts the function from nothing.
# Promise: never nobody's program run as daemon (nor as anybody): the
# request gets an error, the runner stays up; the reload loads nobody's
# function as nobody. Default isolation, and isolation = none.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use File::Path qw(make_path remove_tree);

FaasTest::need_root('folders of two customers');

my $t = FaasTest->new;
my $p = $t->prefix;
my ($duid, $dgid) = (getpwnam('daemon'))[2, 3];
my ($nuid, $ngid) = (getpwnam('nobody'))[2, 3];

# a CGI folder owned by uid:gid whose program says who it is
sub cgi {
    my ($dir, $says, $uid, $gid) = @_;
    make_path($dir);
    FaasTest::write_file("$dir/r.sh", "#!/bin/sh\nprintf 'Content-Type: "
                         . "text/plain\\r\\n\\r\\n$says %s\\n' \"\$(id -u)\"\n");
    FaasTest::write_file("$dir/function.conf", "exec = ./r.sh\nmode = cgi\n");
    chmod 0755, $dir, "$dir/r.sh";
    chmod 0644, "$dir/function.conf";
    chown $uid, $gid, $dir, "$dir/r.sh", "$dir/function.conf";
}

my $root = "$p/root";
make_path($root);
chmod 0755, $root;

for my $mode ('', 'none') {
    my $what = $mode ? "isolation = $mode" : 'the default isolation';
    my $isolation = $mode ? "isolation = $mode\n" : '';

    remove_tree("$root/shop");
    cgi("$root/shop", 'daemons', $duid, $dgid);
    my $ino = (stat "$root/shop")[1];

    $t->start_runner(conf => "functions = $root\n$isolation"
                             . "prototype_idle_timeout = 1s\n",
                     log_level => 'debug');
    $t->start_nginx($t->faas_location) unless $t->{nginx_pid};

    is($t->http_get('/fn/shop')->{body}, "daemons $duid\n",
       "$what: the customer's function, as the customer");
    ok(FaasTest::wait_for(sub { $t->runner_log
                                =~ /prototype \d+ of "shop" idle, stopping/ },
                          15),
       "$what: it goes cold (its prototype stopped)");

    # the name given to another customer: a new folder where it was
    remove_tree("$root/shop");
    cgi("$root/shop", 'NOBODYS', $nuid, $ngid);
    note("$what: the new folder has inode ", (stat "$root/shop")[1],
         ", the old one had $ino");

    my $r = $t->http_get('/fn/shop');
    unlike($r->{body} // '', qr/NOBODYS/,
           "$what: nobody's program does not run as the customer's "
           . "function");
    like($r->{status}, qr/^5\d\d$/, "$what: the request gets an error ("
         . "$r->{status})");
    ok(FaasTest::proc_alive($t->runner_pid), "$what: the runner stays up");

    my $mark = length $t->runner_log;
    $t->signal_runner('HUP');
    ok(FaasTest::wait_for(sub { substr($t->runner_log, $mark)
                                =~ /function "shop" (changed|loaded)/ }, 15),
       "$what: the reload takes the new folder");
    is($t->http_get('/fn/shop')->{body}, "NOBODYS $nuid\n",
       "$what: then it is nobody's function, as nobody");

    is($t->stop_runner, 0, "$what: the runner stops cleanly");
}

# --- each function's folder held: one descriptor each ----------------------
# A soft limit of 128 descriptors (max_connections and max_workers need
# 120 of them): 300 functions all load, the limit grows with them. A
# hard limit of 200: the folders take no descriptor of the 120, the
# functions past them are not loaded (said), the others are served.

my $n = 300;
$t->ok_function("f$_") for 1 .. $n;

sub runner_under {
    my ($limit) = @_;
    $t->start_runner(conf => "max_connections = 16\nmax_workers = 4\n",
                     nofile => $limit);
}

runner_under('200:200');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /listening on/ }, 15),
   'a hard limit of 200 descriptors: the runner starts');
my @loaded = $t->runner_log =~ /function "(f\d+)" loaded/g;
my $loaded = @loaded;
my $refused = () = $t->runner_log =~ /function "f\d+" not loaded: the runner holds the folders of 80 functions, and its descriptor limit \(RLIMIT_NOFILE 200\) keeps the rest for connections and workers/g;
is($loaded, 80, '... the folders of 80 functions held (120 kept)');
is($refused, $n - 80, '... the others not loaded, said');
my @conns = map { $t->http_start("/fn/$loaded[$_ % @loaded]") } 1 .. 16;
is(scalar(grep { (FaasTest::http_finish($_)->{body} // '') eq "ok\n" } @conns),
   16, '... 16 connections at once served');
is($t->stop_runner, 0, '... and the runner stops cleanly');

my $mark = length $t->runner_log;
runner_under('128:');
ok(FaasTest::wait_for(sub { (() = substr($t->runner_log, $mark)
                             =~ /function "f\d+" loaded/g) == $n }, 30),
   "$n functions under a soft limit of 128 descriptors: all loaded");
unlike($t->runner_log, qr/Too many open files/, '... none refused');
is($t->http_get("/fn/f$n")->{body}, "ok\n", '... and served');
cmp_ok(scalar($t->runner_fds), '>=', $n, "... each folder held open ("
       . scalar($t->runner_fds) . " descriptors)");
$t->remove_function("f$_") for 2 .. $n;
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { $t->runner_fds < 100 }, 15),
   '... and let go when their functions are removed');

$t->done;
done_testing;
