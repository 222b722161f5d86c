#!/usr/bin/perl

# README.md as a provider follows it, run as printed on this machine.
#
# The blocks it runs are marked in README.md by an HTML comment just
# before them (invisible on GitHub), run in the README's order:
#
#   <!-- walkthrough: sh NAME -->       a shell block: run with sh -e
#   <!-- walkthrough: session NAME -->  "$ command" lines, each followed
#                                       by its expected output ("…" in
#                                       it matches anything)
#   <!-- walkthrough: file PATH -->     the block is the file PATH
#   <!-- walkthrough: site -->          the example site, byte for byte
#                                       conf/faas-site.conf
#   <!-- walkthrough: in-site -->       lines the example site has
#
# and the status and tenants sections' blocks are found by their
# section. What a block does to the system is done under a temporary
# prefix $p instead, by the one substitution below, applied to every
# block's text and to what make install put down (and nothing else of
# them is changed):
#
#   /etc/faas /etc/nginx /run/faas /run/nginx.pid /var/lib/faas
#   /var/log/nginx /var/log/faas /usr/share/doc/ngx-faas /srv/faas
#   /usr/sbin/fcgi-runner                          -> $p/... the same
#   port 8080                                      -> a free port
#
# and the system's commands are stand-ins first in PATH:
#
#   make install     make install DESTDIR=$p (then the module's
#                    modules-enabled link points into $p, nginx's
#                    prefix has Debian's modules link, and faas-init
#                    is put beside the runner: the runner looks for it
#                    there or at /usr/lib/faas/faas-init)
#   make, make deps  as printed, in the checkout
#   systemctl        enable --now fcgi-runner: the installed unit's
#                    ExecStart, its RuntimeDirectory, StateDirectory,
#                    LogsDirectory and UMask as systemd would; reload:
#                    its ExecReload (SIGHUP), then waits for the runner
#                    to have re-read; restart (for the tenants'
#                    runner.conf, a new listen_*): its KillSignal, then
#                    as enable; daemon-reload: nothing
#   nginx            Debian's nginx with -p $p/usr/share/nginx/ -c
#                    $p/etc/nginx/nginx.conf: a copy of this machine's
#                    /etc/nginx/nginx.conf (substituted), running
#                    before the walkthrough as the packaged nginx does
#                    (and a file of conf.d puts its temporary files,
#                    compiled in as /var/lib/nginx, into $p)
#   fcgi-runner      the one make install put in $p/usr/sbin
#   curl             as on a terminal: no progress meter (a .curlrc
#                    with "silent" and "show-error")
#
# The runner runs as root, as a provider's does. The tenants section's
# customers alice and bob are played by the system users daemon and
# games: their folders are theirs, and they are billed. Everything this
# test started is stopped, and nothing whose command line names $p may
# be left.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need_root('the walkthrough (a provider\'s root runner)');

my $ROOT = $FaasTest::ROOT;
# the prefix is under /run, not /tmp: under the unit's UMask=0077 the
# runner cannot keep a function folder that lies under /tmp at its path
# inside the function's private /tmp (tmp isolation), and every
# function there fails with EACCES; /etc/faas/functions, where the
# README puts them, is not under /tmp
$ENV{TMPDIR} = '/run';
my $t = FaasTest->new;
my $p = $t->prefix;
my $port = FaasTest::free_port();

# whatever happens, the runner and nginx the README's commands started
# stop: their pid files read at the end (a failure before this test
# read them left them running)
END {
    for (["$p/runner.pid", 'fcgi-runner'], ["$p/run/nginx.pid", 'nginx']) {
        my ($file, $name) = @$_;
        my ($pid) = FaasTest::read_file($file) =~ /^(\d+)/ or next;
        next unless FaasTest::read_file("/proc/$pid/cmdline") =~ /\Q$name/;
        kill 'TERM', $pid;
        FaasTest::wait_for(sub { !kill 0, $pid }, 10) or kill 'KILL', $pid;
    }
}
$t->{port} = $port;

# --- the README's blocks --------------------------------------------------

my $readme = FaasTest::read_file("$ROOT/README.md");
my (@marked, %by_section);
{
    my ($section, $mark, $fence, $text, $line) = ('', undef, undef, '', 0);
    my $n = 0;
    for (split /\n/, $readme) {
        $n++;
        if (defined $fence) {
            if (/^\Q$fence\E\s*$/) {
                my $b = { text => $text, section => $section, line => $line,
                          %{ $mark // {} } };
                push @marked, $b if $mark;
                push @{ $by_section{$section} }, $b;
                ($fence, $mark, $text) = (undef, undef, '');
            } else {
                $text .= "$_\n";
            }
            next;
        }
        if (/^## (.*)/) {
            $section = $1;
        } elsif (/^<!-- walkthrough: (\S+)\s*(\S*)\s*-->$/) {
            $mark = { kind => $1, arg => $2 };
        } elsif (/^(```+)/) {
            ($fence, $line) = ($1, $n);
        } elsif (/\S/ && $mark) {
            fail("README.md:$n: a walkthrough mark not followed by a block");
            $mark = undef;
        }
    }
}
cmp_ok(scalar(@marked), '>=', 15, scalar(@marked) . ' marked blocks');

# the substitution, one regex for the test and its stand-ins
my $SUBST = <<'EOF';
s{(?<![\w/.])(/etc/faas|/etc/nginx|/run/faas|/run/nginx\.pid
   |/var/lib/faas|/var/log/nginx|/var/log/faas|/usr/share/doc/ngx-faas
   |/srv/faas|/usr/sbin/fcgi-runner)(?![\w.-])}{$ENV{WALK_P}$1}gx;
s{\b8080\b}{$ENV{WALK_PORT}}g;
EOF
$ENV{WALK_P} = $p;
$ENV{WALK_PORT} = $port;

sub subst {
    local $_ = shift;
    eval $SUBST;
    die $@ if $@;
    return $_;
}

# --- the stand-ins ----------------------------------------------------------

my $wrap = "$p/wrap";
mkdir $wrap;
chmod 0755, $wrap;
my $runner_log = "$p/logs/runner.log";
my $ngx = "/usr/sbin/nginx -p $p/usr/share/nginx/ -c $p/etc/nginx/nginx.conf"
        . " -e $p/var/log/nginx/error.log";
FaasTest::write_file("$wrap/subst", "#!/usr/bin/perl -p\n$SUBST\n");
chmod 0755, "$wrap/subst";
my $subst_cmd = "WALK_P=$p WALK_PORT=$port $wrap/subst";

my %wrappers = (
    make => <<"EOF",
case "\$*" in
install) /usr/bin/make -s -C $ROOT install DESTDIR=$p || exit 1
    ln -sfn $p/usr/share/nginx/modules-available/mod-http-faas.conf \\
        $p/etc/nginx/modules-enabled/50-mod-http-faas.conf
    ln -sfn ../../lib/nginx/modules $p/usr/share/nginx/modules
    cp $p/usr/lib/faas/faas-init $p/usr/sbin/faas-init
    for f in $p/etc/faas/runner.conf \\
             $p/usr/share/doc/ngx-faas/examples/faas-site.conf \\
             $p/lib/systemd/system/fcgi-runner.service; do
        $subst_cmd < \$f > \$f.walk && cat \$f.walk > \$f && rm \$f.walk
    done ;;
deps|'') /usr/bin/make -s -C $ROOT \$* ;;
*) echo "walkthrough: make \$* is no step of the README" >&2; exit 1 ;;
esac
EOF
    systemctl => <<"EOF",
unit=$p/lib/systemd/system/fcgi-runner.service
key() { sed -n "s/^\$1=//p" \$unit | $subst_cmd; }
start() {
    for d in RuntimeDirectory:run StateDirectory:var/lib \\
             LogsDirectory:var/log; do
        name=\$(key \${d%%:*}) mode=\$(key \${d%%:*}Mode)
        mkdir -p $p/\${d#*:}/\$name && chmod \$mode $p/\${d#*:}/\$name
    done
    export RUNTIME_DIRECTORY=$p/run/faas STATE_DIRECTORY=$p/var/lib/faas \\
           LOGS_DIRECTORY=$p/var/log/faas
    (cd / && umask \$(key UMask) && exec setsid \$(key ExecStart) \\
        </dev/null >>$runner_log 2>&1) &
    echo \$! > $p/runner.pid
    for i in \$(seq 100); do
        grep -q 'listening on "' $runner_log 2>/dev/null && exit 0
        kill -0 \$(cat $p/runner.pid) 2>/dev/null || break
        sleep 0.1
    done
    echo "walkthrough: the runner did not start" >&2; exit 1
}
case "\$*" in
daemon-reload) ;;
'enable --now fcgi-runner') start ;;
'restart fcgi-runner')
    pid=\$(cat $p/runner.pid)
    kill -\$(key KillSignal | sed s/^SIG//) \$pid
    while kill -0 \$pid 2>/dev/null; do sleep 0.1; done
    : > $runner_log.new && cat $runner_log >> $runner_log.old
    mv $runner_log.new $runner_log
    start ;;
'reload fcgi-runner')
    n=\$(grep -c 'reloading "' $runner_log)
    MAINPID=\$(cat $p/runner.pid)
    eval "\$(key ExecReload)"
    for i in \$(seq 100); do
        [ \$(grep -c 'reloading "' $runner_log) -gt \$n ] && break
        sleep 0.1
    done
    # answered by the event loop once the reload is done
    $p/usr/sbin/fcgi-runner status --config $p/etc/faas/runner.conf \\
        >/dev/null ;;
*) echo "walkthrough: systemctl \$* is no step of the README" >&2; exit 1 ;;
esac
EOF
    nginx => <<"EOF",
$ngx "\$@" || exit
if [ "\$*" = "-s reload" ]; then
    # the new workers take the new configuration
    sleep 1
fi
EOF
);
for my $w (keys %wrappers) {
    FaasTest::write_file("$wrap/$w", "#!/bin/sh\n$wrappers{$w}");
    chmod 0755, "$wrap/$w";
}
my $path = "$wrap:$p/usr/sbin:/usr/local/bin:/usr/bin:/bin";
FaasTest::write_file("$wrap/.curlrc", "silent\nshow-error\n");

# runs shell text under the stand-ins; its output and exit status
sub sh {
    my ($text) = @_;
    my $file = "$p/block.sh";
    FaasTest::write_file($file, $text);
    local $ENV{PATH} = $path;
    local $ENV{CURL_HOME} = $wrap;
    my $out = `cd $p && sh -e $file 2>&1`;
    return ($out, $? >> 8);
}

# --- nginx as Debian runs it, before the walkthrough --------------------------

for my $d (qw(etc/nginx/conf.d etc/nginx/sites-enabled
              etc/nginx/modules-enabled var/log/nginx run usr/share/nginx
              usr/lib/nginx/modules))
{
    system('mkdir', '-p', "$p/$d");
}
system('cp', '/etc/nginx/mime.types', "$p/etc/nginx/") == 0 or die;
my $debian = FaasTest::read_file('/etc/nginx/nginx.conf');
like($debian, qr{include /etc/nginx/sites-enabled/\*;}, 'Debian\'s nginx.conf '
     . 'includes sites-enabled in http');
FaasTest::write_file("$p/etc/nginx/nginx.conf", subst($debian));
# its temporary files under the prefix too (compiled-in /var/lib/nginx)
FaasTest::write_file("$p/etc/nginx/conf.d/walkthrough-temp.conf",
    join '', map { "${_}_temp_path $p/tmp-$_;\n" }
             qw(client_body fastcgi proxy scgi uwsgi));
my ($out, $rc) = sh('nginx');
is($rc, 0, 'nginx starts as the packaged one') or diag($out);
my $nginx_pid = FaasTest::wait_for(sub {
    FaasTest::read_file("$p/run/nginx.pid") =~ /^(\d+)/ ? $1 : 0 }, 5);
$t->{nginx_pid} = $nginx_pid;

# --- the marked blocks, in order -------------------------------------------

my $site = FaasTest::read_file("$ROOT/conf/faas-site.conf");
my %calls;          # function => invocations made through the site
my %fixed = $site =~ /location = (\S+) \{\s*faas_function ([\w-]+);/g;

my %check = (
    install => sub {
        my ($b, $out) = @_;
        like($b->{text}, qr/^make install\b/m, 'install: make install');
        ok(-f "$p/usr/sbin/fcgi-runner" && -f "$p/etc/faas/runner.conf",
           'install: the runner and its config are in place');
        $t->{runner_pid} = FaasTest::read_file("$p/runner.pid") =~ /(\d+)/
                         ? $1 : undef;
        ok($t->{runner_pid} && kill(0, $t->{runner_pid}),
           'install: the runner runs')
            or diag(FaasTest::read_file($runner_log));
    },
    'enable-site' => sub {
        like(`$ngx -T 2>&1`, qr/faas_route/, 'enable-site: nginx has the site');
    },
    status => sub {
        my ($b, $out) = @_;
        for my $f (sort keys %calls) {
            my @l = grep { /^\Q$f\E\s/ } split /\n/, $out;
            is(scalar(@l), 2, "status: $f in the location's and the "
               . "terminal's table") or diag($out);
            like($_, qr/\s$calls{$f}\s+$calls{$f}\s/,
                 "status: $f: $calls{$f} calls, all ok") for @l;
        }
    },
    meter => sub {
        my ($b, $out) = @_;
        my ($by_fn, $by_tenant) = split /\n(?=tenant\s)/, $out;
        for my $f (sort keys %calls) {
            like($by_fn, qr/^\Q$f\E\s+$calls{$f}\s+\d+\s+$calls{$f}\s/m,
                 "meter: $f: $calls{$f} invocations, all ok") or diag($out);
        }
        my $all = 0;
        $all += $_ for values %calls;
        like($by_tenant // '', qr/^default\s+$all\s+\d+\s+$all\s/m,
             "meter --by tenant: default's $all") or diag($out);
    },
);

for my $b (@marked) {
    my $what = "README.md:$b->{line}: $b->{kind} $b->{arg}";
    my $text = subst($b->{text});

    if ($b->{kind} eq 'site') {
        is($b->{text}, $site, "$what: the README shows conf/faas-site.conf");

    } elsif ($b->{kind} eq 'in-site') {
        ok(index($site, $_) >= 0, "$what: in the example site: "
           . substr($_ =~ s/^\s+//r, 0, 40))
            for map { s/^\s+//r } grep { /\S/ } split /\n/, $b->{text};

    } elsif ($b->{kind} eq 'file') {
        my $f = subst($b->{arg});
        ok(-d ($f =~ s{/[^/]+$}{}r), "$what: its folder is there");
        FaasTest::write_file($f, $b->{text});

    } elsif ($b->{kind} eq 'sh') {
        my ($out, $rc) = sh($text);
        is($rc, 0, "$what runs") or diag($out);
        ($check{$b->{arg}} // sub {})->($b, $out);

    } elsif ($b->{kind} eq 'session') {
        my @lines = split /\n/, $text;
        while (@lines) {
            my $cmd = shift @lines;
            $cmd =~ s/^\$ // or do { fail("$what: not a command: $cmd"); last };
            my @want;
            push @want, shift @lines while @lines && $lines[0] !~ /^\$ /;
            my ($out, $rc) = sh($cmd);
            is($rc, 0, "$what: $cmd") or diag($out);
            my $re = join '', map { join('.*', map { quotemeta }
                                         split /…/, $_, -1) . "\n" } @want;
            like($out, qr/\A$re\z/, "$what: $cmd: its output");
            if ($cmd =~ m{curl .*http://127\.0\.0\.1:$port(/[^\s'?]*)}) {
                my $u = $1;
                my $f = $fixed{$u} // ($u =~ m{^/fn/([\w-]+)})[0];
                $calls{$f}++ if $f;
            }
        }

    } else {
        fail("$what: unknown kind of walkthrough block");
    }
}

ok(scalar(keys %calls) >= 3, 'the walkthrough called '
   . join(', ', map { "$_ ($calls{$_})" } sort keys %calls));

# the status section's location is the example site's
my ($status) = grep { $_->{text} =~ /faas_status;/ }
               @{ $by_section{'Status and metrics'} // [] };
ok($status, 'the status section shows its location');
ok(index($site, $status->{text} =~ s/^(?=.)/    /gmr) >= 0,
   'the status section\'s location is the example site\'s')
    if $status;

# --- the tenants section ---------------------------------------------------

# its runner.conf replaces the installed one, its folders are made as
# it describes them (alice and bob played by daemon and games; the
# programs ./api and ./report are the hello compiled above, the PHP
# shop the index.php above), its site goes beside the example site,
# and the runner and nginx are reloaded as the README says
my %player = (alice => 'daemon', bob => 'games');
my @tb = @{ $by_section{'Hosting many tenants'} // [] };
my ($tconf) = grep { $_->{text} =~ m{\A# /etc/faas/runner\.conf\n} } @tb;
my ($tdirs) = grep { $_->{text} =~ /\A# folders/ } @tb;
my ($tsite) = grep { $_->{text} =~ /server_name alice/ } @tb;
ok($tconf && $tdirs && $tsite, 'tenants: the runner.conf, folders and site')
    or BAIL_OUT('the tenants section changed its blocks');

FaasTest::write_file("$p/etc/faas/runner.conf", subst($tconf->{text}));

my (%tenant_of, @folders);
for (split /\n/, $tdirs->{text}) {
    next if /^#/;
    if (m{^(/\S+?)/?\s+owner (\S+)\s+function\.conf: (.*)$}) {
        push @folders, { dir => subst($1), owner => $player{$2} // $2,
                         conf => "$3\n" };
    } elsif (/^\s+(\S.*)$/ && @folders) {
        $folders[-1]{conf} .= "$1\n";
    }
}
is(scalar(@folders), 3, 'tenants: three folders');
for my $f (@folders) {
    my ($uid, $gid) = (getpwnam $f->{owner})[2, 3];
    ok(defined $uid, "tenants: user $f->{owner}") or next;
    my $own = $uid != 0;
    system('mkdir', '-p', $f->{dir}) == 0 or die;
    chmod 0755, $f->{dir} =~ s{/[^/]+$}{}r;
    FaasTest::write_file("$f->{dir}/function.conf", $f->{conf});
    my @prog = $f->{conf} =~ m{^exec = \./(\S+)}mg;
    system('cp', "$p/etc/faas/functions/hello/hello", "$f->{dir}/$_") == 0
        or die for @prog;
    my ($script) = $f->{conf} =~ /^script = (\S+)/m;
    system('cp', "$p/etc/faas/functions/hello-php/index.php",
           "$f->{dir}/$script") == 0 or die if $script;
    # a customer's folder to itself, as the README says; a root-owned
    # one readable by the dynamic user it runs as
    chmod $own ? 0600 : 0644, glob "$f->{dir}/*";
    chmod $own ? 0700 : 0755, $f->{dir}, map { "$f->{dir}/$_" } @prog;
    chown $uid, $gid, $f->{dir}, glob "$f->{dir}/*";
    my ($tenant) = $f->{conf} =~ /^tenant = (\S+)/m;
    my ($name) = $f->{dir} =~ m{([^/]+)$};
    $tenant_of{$name} = $tenant // $f->{owner};
    $f->{name} = $name;
}

# (the tenants are their players' names: daemon's, games')
FaasTest::write_file("$p/etc/nginx/sites-enabled/tenants",
                     subst($tsite->{text})
                     =~ s/faas_tenant (alice|bob);/faas_tenant $player{$1};/gr);
($out, $rc) = sh(subst("nginx -t && nginx -s reload\n"
                       . "fcgi-runner --test --config /etc/faas/runner.conf\n"
                       . "systemctl restart fcgi-runner\n"));
$t->{runner_pid} = FaasTest::read_file("$p/runner.pid") =~ /(\d+)/ ? $1 : undef;
is($rc, 0, 'tenants: nginx and the runner take them') or diag($out);
unlike($out, qr/\[(warn|error)\]/, 'tenants: --test has nothing to say')
    or diag($out);

my %hosts = $tsite->{text} =~ /server_name (\S+);.*?faas_function ([\w-]+);/gs;
is(scalar(keys %hosts), 3, 'tenants: three sites');
my %billed;
for my $host (sort keys %hosts) {
    my $fn = $hosts{$host};
    ($out, $rc) = sh("curl -H 'Host: $host' http://127.0.0.1:$port/\n");
    like($out, qr/\AHello(?:, world| from PHP)/, "tenants: $host serves $fn")
        or diag($out);
    $billed{ $tenant_of{$fn} }++;
    my ($f) = grep { $_->{name} eq $fn } @folders;
    my @uids = map { (stat "/proc/$_")[4] }
               grep { FaasTest::proc_cwd($_) eq $f->{dir} }
               map { m{/(\d+)$} } glob '/proc/[0-9]*';
    my $want = $f->{owner} eq 'root' ? undef : (getpwnam $f->{owner})[2];
    ok(@uids && !grep({ defined $want ? $_ != $want
                                      : $_ < 61184 || $_ > 65519
                                        || defined getpwuid($_) } @uids),
       "tenants: $fn runs as " . ($want // "a dynamic user") . " (@uids)");
}
($out, $rc) = sh(subst("fcgi-runner meter --by tenant "
                       . "/var/log/nginx/faas.log\n"));
for my $tn (sort keys %billed) {
    like($out, qr/^\Q$tn\E\s+$billed{$tn}\s+\d+\s+$billed{$tn}\s/m,
         "tenants: $billed{$tn} invocation billed to $tn") or diag($out);
}

# --- stop what this test started -----------------------------------------

sub stop_pid {
    my ($pid, $sig, $what) = @_;
    return unless $pid;
    kill $sig, $pid;
    ok(FaasTest::wait_for(sub { !kill 0, $pid }, 15), "$what stops on $sig")
        or kill 'KILL', $pid;
}

stop_pid($nginx_pid, 'QUIT', 'nginx');
delete $t->{nginx_pid};
stop_pid($t->{runner_pid}, 'TERM', 'the runner');
delete $t->{runner_pid};

my $rlog = FaasTest::read_file("$runner_log.old")
         . FaasTest::read_file($runner_log);
my @bad = grep { /\[(alert|emerg|crit)\]/ } split /\n/, $rlog;
ok(!@bad, 'no alert, emerg or crit from the runner') or diag(join "\n", @bad);
@bad = grep { /\[(alert|emerg|crit)\]/ } split /\n/,
       FaasTest::read_file("$p/var/log/nginx/error.log");
ok(!@bad, 'no alert, emerg or crit from nginx') or diag(join "\n", @bad);
@bad = grep { /\[warn\]/ } split /\n/, $rlog;
ok(!@bad, 'the examples as printed give the runner nothing to warn about')
    or diag(join "\n", @bad);

my @left;
FaasTest::wait_for(sub {
    @left = grep { FaasTest::read_file("/proc/$_/cmdline") =~ /\Q$p\E/ }
            map { m{/(\d+)$} } glob '/proc/[0-9]*';
    push @left, $t->leftovers;
    @left = grep { $_ != $$ } @left;
    !@left;
}, 5);
ok(!@left, 'nothing this test started is left') or do {
    diag("left: @left");
    kill 'KILL', @left;
};

diag("runner log:\n$rlog") if $ENV{TEST_NGINX_VERBOSE};

done_testing;
