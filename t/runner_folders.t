#!/usr/bin/perl

# functions = several folders and globs (/srv/faas/*/functions): every
# function of every folder is served; a name found in two folders is an
# error naming both paths, and the first stays (in the order of the
# list, then of the glob); a glob picks up a new folder on SIGHUP; a
# folder that cannot be read is an error, and on reload it does not
# take its functions away. A folder without function.conf (lost+found,
# .git, a marker) is said once, at notice, and is no problem; a
# customer's folder that other users may read is warned about (as
# sshd's StrictModes), with the mode to use.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use File::Path qw(make_path remove_tree);

my $t = FaasTest->new;
my $p = $t->prefix;

sub fn {
    my ($dir, $name, $says) = @_;
    make_path("$dir/$name");
    chmod 0755, $dir, "$dir/$name";
    FaasTest::write_file("$dir/$name/function.conf",
                         "exec = ./run.sh\nmode = cgi\n");
    FaasTest::write_file("$dir/$name/run.sh", "#!/bin/sh\nprintf "
                         . "'Content-Type: text/plain\\r\\n\\r\\n$says\\n'\n");
    chmod 0755, "$dir/$name/run.sh";
}

make_path("$p/g1/functions", "$p/g2/functions");
chmod 0755, "$p/g1", "$p/g2";
fn("$p/fa", 'f1', 'f1 of a');
fn("$p/fa", 'dup', 'dup of a');
fn("$p/fb", 'f2', 'f2 of b');
fn("$p/fb", 'dup', 'dup of b');
fn("$p/g1/functions", 'f3', 'f3 of g1');
fn("$p/g2/functions", 'f4', 'f4 of g2');

# no function.conf: a marker folder
make_path("$p/fa/lost+found");

# a folder whose name carries a line of the log's own form (no "/")
my $forged = "FORGED [error] 1#0: function \"f1\" crashed";
make_path("$p/fb/x\n$forged\r\e[2J");

# a customer's folders: made with a plain mkdir (0755), and kept 0700
my ($uid, $gid) = (getpwnam('daemon'))[2, 3];
fn("$p/fa", 'open', 'open');
fn("$p/fa", 'closed', 'closed');
chmod 0700, "$p/fa/closed", "$p/fa/closed/run.sh";
chmod 0600, "$p/fa/closed/function.conf";
chown $uid, $gid, map { ("$p/fa/$_", glob("$p/fa/$_/*")) } qw(open closed);

my $list = "functions = $p/fa $p/fb, $p/g*/functions\n";

# --test names both paths of the duplicate
{
    my $cf = "$p/test.conf";
    FaasTest::write_file($cf, $t->runner_conf_text($list));
    my $out = `$FaasTest::RUNNER --config $cf --test 2>&1`;
    isnt($? >> 8, 0, '--test: a duplicate is a problem');
    like($out, qr{function "dup" is both "\Q$p\E/fa/dup" and "\Q$p\E/fb/dup": the first stays},
         '... naming both paths');
    SKIP: {
        skip 'folder owners need a root runner', 2 if $> != 0;
        like($out, qr{\[warn\].*function "open": other users may read or change its folder or files in it: chmod 0700 "\Q$p\E/fa/open"},
             '--test: a customer folder others may read is warned about');
        unlike($out, qr{function "closed": other users},
               '... one kept 0700 is not');
    }
    like($out, qr{\[notice\].*folder "\Q$p\E/fa/lost\+found" has no function.conf: not a function},
         '--test: a folder without function.conf is a notice');
    unlike($out, qr{\[error\].*lost\+found}, '... not an error');
    unlike($out, qr{^\Q$forged\E}m, 'a folder\'s name makes no line of its '
           . 'own in the log');
    like($out, qr{x\\x0a\Q$forged\E\\x0d\\x1b\[2J}, '... its control '
         . 'characters are shown as \\xNN');
}

$t->start_runner(conf => $list);
$t->start_nginx($t->faas_location);

sub body { my $r = $t->http_get("/fn/$_[0]"); $r->{status} . ' ' . $r->{body} }

is(body('f1'), "200 f1 of a\n", 'the first folder');
is(body('f2'), "200 f2 of b\n", 'the second');
is(body('f3'), "200 f3 of g1\n", 'a glob: its first match');
is(body('f4'), "200 f4 of g2\n", '... and its second');
is(body('dup'), "200 dup of a\n", 'a name in two folders: the first stays');
like($t->runner_log, qr{function "dup" is both "\Q$p\E/fa/dup" and "\Q$p\E/fb/dup"},
     'the duplicate is logged with both paths');

# a new folder matching the glob, on reload
make_path("$p/g3/functions");
chmod 0755, "$p/g3";
fn("$p/g3/functions", 'f5', 'f5 of g3');
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { $t->runner_log =~ /function "f5" loaded/ }, 10),
   'SIGHUP: a folder the glob now matches is read');
is(body('f5'), "200 f5 of g3\n", 'and served');
is(body('dup'), "200 dup of a\n", 'the duplicate is still the first');

# a folder that cannot be read: reported, its functions kept
rename "$p/fb", "$p/fb.away" or die;
FaasTest::write_file("$p/runner.conf", $t->runner_conf_text($list));
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { $t->runner_log =~ m{opendir\(\) "\Q$p\E/fb" failed} }, 10),
   'an unreadable folder is an error');
unlike($t->runner_log, qr/function "f2" removed/,
       'its functions are not taken as removed');
is(body('f1'), "200 f1 of a\n", 'the others are served');
rename "$p/fb.away", "$p/fb";
is(body('f2'), "200 f2 of b\n", 'back: served again');

my @notices = $t->runner_log =~ /(lost\+found" has no function.conf)/g;
is(scalar(@notices), 1, 'a folder without function.conf: said once over '
   . 'three loads');
is(body('closed'), "200 closed\n", "the 0700 customer's function runs");

# a relative functions folder: from the runner's working directory
is($t->stop_runner, 0, 'stopped');
chdir $p or die "chdir: $!";
$t->start_runner(conf => "functions = fa\n");
chdir '/';
is(body('f1'), "200 f1 of a\n", 'a relative "functions": its functions run');
like($t->runner_log, qr{function "f1" loaded}, '... loaded from it');

$t->done;

done_testing;
