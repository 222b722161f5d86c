#!/usr/bin/perl

# Who may lower a function's isolation under a root runner's default
# floor (limit_isolation unset: tmp pid ipc). The operator's own word
# is what it says: a function.conf only root may have written (its
# folder and file root's, neither group- nor other-writable), or the
# runner config's isolation. A customer's is held to the floor: a
# function.conf root's but writable by others, or another user's in a
# root's folder, asking for none, is refused with its file and line. A
# floor the operator set (limit_isolation) holds every function.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need_root('a root runner and its isolation');

my $t = FaasTest->new;
my $p = $t->prefix;

# what a function sees of the host: its /tmp, its pid 1
my $mark = "/tmp/faas-floor-$$";
FaasTest::write_file($mark, "host\n");
my $sh = "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n"
       . "if [ -e $mark ]; then echo host-tmp; else echo own-tmp; fi\n";
my $cgi = "exec = ./r.sh\nmode = cgi\n";

$t->function('opnone', "${cgi}isolation = none\n", 'r.sh' => $sh);
$t->function('opdefault', $cgi, 'r.sh' => $sh);
my $loose = $t->function('loosenone', "${cgi}isolation = none\n",
                         'r.sh' => $sh);
chmod 0666, "$loose/function.conf";
my $theirs = $t->function('theirnone', "${cgi}isolation = none\n",
                          'r.sh' => $sh);
chown 65534, 65534, "$theirs/function.conf";

FaasTest::write_file("$p/test.conf", $t->runner_conf_text(''));
# the hostile twin of who runs it: such a file naming root
my $asroot = $t->function('looseroot', "${cgi}user = root\n",
                          'r.sh' => "#!/bin/sh\nprintf 'Content-Type: "
                                    . "text/plain\\r\\n\\r\\n'\nid -u\n");
chmod 0666, "$asroot/function.conf";
my $out = `$FaasTest::RUNNER --test --config $p/test.conf 2>&1`;
ok($? != 0, '--test: a customer\'s function.conf lowering isolation fails');
like($out, qr{loosenone/function.conf:3: "isolation" drops namespaces},
     '... one others may write, with file and line');
like($out, qr{theirnone/function.conf:3: "isolation" drops namespaces},
     '... one another user owns, with file and line');
unlike($out, qr{opnone/function.conf:\d+: "isolation"},
       '... the operator\'s own is not');
like($out, qr{looseroot/function.conf: not loaded: in a folder of root's},
     'a function.conf others may write in a root\'s folder names no user: '
     . 'not loaded');

# a runner with this config: each check's answer (its status, or its
# body when 200 is wanted with a body), then both stopped
sub under {
    my ($conf, @checks) = @_;
    $t->start_runner(conf => $conf);
    $t->start_nginx($t->faas_location);
    for my $c (@checks) {
        my ($fn, $want, $name) = @$c;
        my $r = $t->http_get("/fn/$fn");
        is($want =~ /^\d+$/ ? $r->{status} : $r->{body}, $want, $name);
    }
    $t->stop_nginx;
    is($t->stop_runner, 0, "... the runner exits 0 on SIGTERM");
}

under('',
      [ opnone => "host-tmp\n",
        'the operator\'s isolation = none: the host\'s /tmp' ],
      [ opdefault => "own-tmp\n",
        'one that says nothing: the default, a /tmp of its own' ],
      [ loosenone => 404, 'a function.conf others may write: not loaded' ],
      [ theirnone => 404, 'one another user owns: not loaded' ],
      [ looseroot => 404, '"user = root" in a file others may write: '
                          . 'never run, as root or anyone' ]);

# the runner config's isolation is the operator's too; a floor it sets
# holds every function, the operator's own included
under("isolation = none\n",
      [ opdefault => "host-tmp\n", 'the runner config\'s isolation = '
                                    . 'none: what a function saying nothing '
                                    . 'gets' ]);
under("limit_isolation = tmp\n",
      [ opnone => 404, 'a floor the operator set holds its own '
                       . 'function.conf too' ],
      [ opdefault => "own-tmp\n", '... and the rest run' ]);

unlink $mark;
$t->done;
done_testing;
