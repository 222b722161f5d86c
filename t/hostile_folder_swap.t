#!/usr/bin/perl

# A folder swapped in its parent: whoever may change a directory may
# rename the folders in it, or swap one for another at once
# (renameat2 RENAME_EXCHANGE), whoever owns them.
#   - a folder (root's, or a customer's) in a directory another user
#     owns, or one its group (not the owner's own) or anybody may write
#     (not sticky): not loaded, and the log says which directory and
#     why; in a sticky one (as /tmp), root's alone, the customer's own
#     or one of its own group's: loaded. So is a program or a script of
#     root's out of the folder (an absolute exec, a link out): in a
#     customer's directory, not loaded.
#   - a customer's function (daemon's) loaded from root's directory,
#     which is then given to another user (nobody): nobody swaps its
#     own folder in, once and then in a loop while requests come.
#     Promise: never nobody's program as daemon; the function's own
#     answers, or an error; the next reload refuses the folder.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Config;
use File::Path qw(make_path);
use POSIX ();

FaasTest::need_root('a folder swapped by another user');

my $t = FaasTest->new;
my $p = $t->prefix;
my ($duid, $dgid) = (getpwnam('daemon'))[2, 3];
my ($nuid, $ngid) = (getpwnam('nobody'))[2, 3];
my $renameat2 = $Config{archname} =~ /^aarch64/ ? 276 : 316;

# a CGI folder owned by uid:gid that says who it is
sub cgi {
    my ($dir, $says, $uid, $gid, $conf) = @_;
    make_path($dir);
    FaasTest::write_file("$dir/r.sh", "#!/bin/sh\nprintf 'Content-Type: "
                         . "text/plain\\r\\n\\r\\n$says %s\\n' \"\$(id -u)\"\n");
    chmod 0755, $dir, "$dir/r.sh";
    if (defined $conf) {
        FaasTest::write_file("$dir/function.conf", $conf);
        chmod 0644, "$dir/function.conf";
    }
    chown $uid, $gid, $dir, glob("$dir/*");
}

# one whose program runs its script by the absolute path it is given
# (SCRIPT_FILENAME): a prototype holding the folder does not hold that
sub cgi_script {
    my ($dir, $says, $uid, $gid, $conf) = @_;
    cgi($dir, $says, $uid, $gid, $conf);
    FaasTest::write_file("$dir/r.sh", "#!/bin/sh\nprintf 'Content-Type: "
                         . "text/plain\\r\\n\\r\\n'\n. \"\$SCRIPT_FILENAME\"\n");
    FaasTest::write_file("$dir/page.sh",
                         "echo \"$says page \$(id -u)\"\n");
    chmod 0755, "$dir/r.sh";
    chmod 0644, "$dir/page.sh";
    chown $uid, $gid, "$dir/r.sh", "$dir/page.sh";
}

# nobody swaps two entries of its directory: $n times, or for -$n
# seconds (an even number of times)
sub swap {
    my ($a, $b, $n) = @_;
    return FaasTest::as_user($nuid, $ngid, $^X, '-e', <<'EOT', $a, $b, $n,
my ($a, $b, $n, $nr) = @ARGV;
my $end = time - $n;
for (my $i = 0; $n > 0 ? $i < $n : (time < $end || $i % 2); $i++) {
    syscall($nr, -100, $a, -100, $b, 2) == 0 or exit 1;
}
EOT
        $renameat2);
}

# --- a directory given to another user after the load ---------------------

my $shared = "$p/shared";
make_path($shared);
chmod 0755, $shared;

cgi("$shared/shop", 'daemons', $duid, $dgid, "exec = ./r.sh\nmode = cgi\n");
cgi("$shared/evil", 'NOBODYS', $nuid, $ngid);
cgi_script("$shared/page", 'daemons', $duid, $dgid,
           "exec = ./r.sh\nmode = cgi\nscript = page.sh\n");
cgi_script("$shared/evilpage", 'NOBODYS', $nuid, $ngid);

# the default isolation: the runner finds the folder changed at the next
# spawn (isolation keeps it mounted) and makes a new prototype; "pid":
# the prototype has it open and its workers run from it; "none" too
# (a prototype without namespaces)
for my $mode ('', 'pid', 'none') {
    my $what = $mode ? "isolation = $mode" : 'the default isolation';
    my $isolation = $mode ? "isolation = $mode\n" : '';

    chown 0, 0, $shared;
    $t->start_runner(conf => "functions = $shared\n$isolation");
    $t->start_nginx($t->faas_location) unless $t->{nginx_pid};

    is($t->http_get('/fn/shop')->{body}, "daemons $duid\n",
       "$what: the customer's function, as the customer");

    # the operator gives the directory away: nobody may change it now
    chown $nuid, $ngid, $shared;
    is(swap("$shared/shop", "$shared/evil", 1), 0,
       "$what: nobody swaps its folder in for the customer's");

    my (%bodies, $n);
    for (1 .. 5) {
        my $r = $t->http_get('/fn/shop');
        $bodies{$r->{status} == 200 ? $r->{body} : "status $r->{status}"}++;
    }
    ok(!grep(/NOBODY/, keys %bodies),
       "$what: after the swap, never nobody's program")
        or diag(explain \%bodies);

    # a script by its path, from a folder held since before the swap
    chown 0, 0, $shared;
    is($t->http_get('/fn/page')->{body}, "daemons page $duid\n",
       "$what: a script run by its path, as the customer");
    chown $nuid, $ngid, $shared;
    is(swap("$shared/page", "$shared/evilpage", 1), 0,
       "$what: nobody swaps the script's folder");
    %bodies = ();
    for (1 .. 3) {
        my $r = $t->http_get('/fn/page');
        $bodies{$r->{status} == 200 ? $r->{body} : "status $r->{status}"}++;
    }
    ok(!grep(/NOBODY/, keys %bodies),
       "$what: after the swap, never nobody's script as the customer")
        or diag(explain \%bodies);
    is(swap("$shared/page", "$shared/evilpage", 1), 0,
       "$what: the script's folder swapped back");

    # and back, then a swap after another while requests come
    is(swap("$shared/shop", "$shared/evil", 1), 0, "$what: swapped back");

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        swap("$shared/shop", "$shared/evil", -3);
        POSIX::_exit(0);
    }

    %bodies = ();
    while (waitpid($pid, POSIX::WNOHANG()) == 0) {
        my $r = $t->http_get('/fn/shop');
        $bodies{$r->{status} == 200 ? $r->{body} : "status $r->{status}"}++;
    }

    ok(!grep(/NOBODY/, keys %bodies),
       "$what: swaps while requests spawn: never nobody's program")
        or diag(explain \%bodies);
    ok(!grep(!/^(daemons $duid\n|status 50[23])$/, keys %bodies),
       "$what: only the function's answers or a 502/503")
        or diag(explain \%bodies);

    # where they were: an even number of swaps
    swap("$shared/shop", "$shared/evil", 1)
        if (stat "$shared/shop")[4] != $duid;

    my $mark = length $t->runner_log;
    $t->signal_runner('HUP');
    ok(FaasTest::wait_for(sub { index(substr($t->runner_log, $mark),
        qq{$shared/shop/function.conf: not loaded: its folder is in }
        . qq{"$shared", which its owner may change (uid $nuid, gid $ngid, }
        . 'mode 0755)') >= 0 }, 10),
       "$what: the next reload refuses the folder, and says why");

    is($t->stop_runner, 0, "$what: the runner stops cleanly");
}

# --- an operator's folder where another user may change it ---------------

# root's folder and function.conf, in a directory owned by a customer,
# in one its group may write, in a sticky one, in root's own
make_path("$p/cust", "$p/group", "$p/sticky", "$p/root", "$p/priv");
chown $duid, $dgid, "$p/cust";
chmod 0755, "$p/cust", "$p/root";
chown 0, $dgid, "$p/group";
chmod 0775, "$p/group";
chmod 01777, "$p/sticky";
for my $d (qw(cust group sticky root)) {
    cgi("$p/$d/op$d", "operators", 0, 0, "exec = ./r.sh\nmode = cgi\n");
}
# customers': its own folder in its own directory, and in one its own
# group may write; nobody's folder in daemon's directory
cgi("$p/cust/mine", 'mine', $duid, $dgid, "exec = ./r.sh\nmode = cgi\n");
chown $duid, $dgid, "$p/priv";
chmod 0775, "$p/priv";
cgi("$p/priv/ours", 'ours', $duid, $dgid, "exec = ./r.sh\nmode = cgi\n");
cgi("$p/cust/theirs", 'theirs', $nuid, $ngid, "exec = ./r.sh\nmode = cgi\n");
# the customer's directory, its own group's, but an ACL lets nobody write
make_path("$p/acl");
chown $duid, $dgid, "$p/acl";
chmod 0755, "$p/acl";
system('setfacl', '-m', "u:$nuid:rwx", "$p/acl") == 0 or die "setfacl: $?";
cgi("$p/acl/acld", 'acld', $duid, $dgid, "exec = ./r.sh\nmode = cgi\n");

$t->start_runner(conf => "functions = $p/cust $p/group $p/sticky $p/root "
                         . "$p/priv $p/acl\n");

my $log = $t->runner_log;
sub refused {
    my ($d, $fn, $who, $uid, $gid, $mode) = @_;
    return "$p/$d/$fn/function.conf: not loaded: its folder is in "
           . "\"$p/$d\", which $who may change (uid $uid, gid $gid, mode "
           . "$mode): another user could rename it";
}
ok(index($log, refused('cust', 'opcust', 'its owner', $duid,
                       $dgid, '0755')) >= 0,
   'root\'s folder in a customer\'s directory: not loaded, says where');
ok(index($log, refused('group', 'opgroup', 'its group', 0, $dgid,
                       '0775')) >= 0,
   '... in a directory its group may write: the same');
ok(index($log, refused('cust', 'theirs', 'its owner', $duid,
                       $dgid, '0755')) >= 0,
   'a customer\'s folder in another customer\'s directory: the same');

is($t->http_get('/fn/opcust')->{status}, 404, '... none is served');
is($t->http_get('/fn/opgroup')->{status}, 404, '... (the second)');
is($t->http_get('/fn/theirs')->{status}, 404, '... (the third)');
is($t->http_get('/fn/mine')->{body}, "mine $duid\n",
   'the customer\'s own folder in its directory: served');
is($t->http_get('/fn/ours')->{body}, "ours $duid\n",
   '... in its directory its own group may write: served');
is($t->http_get('/fn/acld')->{status}, 404,
   '... in its directory an ACL lets another user write: not loaded');
ok(index($log, refused('acl', 'acld', 'its group', $duid, $dgid, '0775'))
   >= 0, '... said (the group bits are the ACL\'s mask)');
like($t->http_get('/fn/opsticky')->{body}, qr/^operators \d+\n\z/,
     'in a sticky directory (as /tmp): loaded and served');
like($t->http_get('/fn/oproot')->{body}, qr/^operators \d+\n\z/,
     'in root\'s own: loaded and served');

# a program or a script of root's out of the folder: it and its folders
# are nobody else's to change either
make_path("$p/opt", "$p/rootbin");
chown $duid, $dgid, "$p/opt";
chmod 0755, "$p/opt", "$p/rootbin";
for my $d ("$p/opt", "$p/rootbin") {
    FaasTest::write_file("$d/server", "#!/bin/sh\nprintf 'Content-Type: "
                         . "text/plain\\r\\n\\r\\nserver\\n'\n");
    chmod 0755, "$d/server";
    FaasTest::write_file("$d/page.php", "<?php echo 'page';\n");
}
cgi("$p/root/useopt", 'x', 0, 0, "exec = $p/opt/server\nmode = cgi\n");
cgi("$p/root/usebin", 'x', 0, 0, "exec = $p/rootbin/server\nmode = cgi\n");
cgi("$p/root/optpage", 'x', 0, 0, "exec = ./r.sh\nmode = cgi\n"
                                 . "script = page.php\n");
symlink "$p/opt/page.php", "$p/root/optpage/page.php" or die "symlink: $!";
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /function "usebin" loaded/ },
                      10), 'a program of root\'s in root\'s folder: loaded');
is($t->http_get('/fn/usebin')->{body}, "server\n", '... and served');
$log = $t->runner_log;
ok(index($log, "$p/root/useopt/function.conf: not loaded: its program is in "
               . "\"$p/opt\", which its owner may change (uid $duid") >= 0,
   'a program of root\'s in a customer\'s directory: not loaded, says why');
ok(index($log, "$p/root/optpage/function.conf: not loaded: its script is in "
               . "\"$p/opt\", which its owner may change (uid $duid") >= 0,
   '... a script linked there: the same');
is($t->http_get('/fn/useopt')->{status}, 404, '... neither is served');
is($t->http_get('/fn/optpage')->{status}, 404, '... (the other)');

# the operator moves it: the next reload loads it
rename "$p/cust/opcust", "$p/root/opcust" or die "rename: $!";
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { ($t->http_get('/fn/opcust')->{body} // '')
                            =~ /^operators / }, 10),
   'moved where only root may change it: loaded on the reload');

is($t->stop_runner, 0, 'the runner stops cleanly');

$t->done;
done_testing;
