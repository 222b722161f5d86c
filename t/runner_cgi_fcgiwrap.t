#!/usr/bin/perl

# CGI mode against fcgiwrap, the CGI gateway nobody here wrote: the same
# scripts (sh, Perl, C) behind two nginx servers that differ only in
# that one passes to the runner (faas_pass, mode = cgi) and the other to
# fcgiwrap (fastcgi_pass). Same status, headers (but Date and Server)
# and body; the same meta-variables seen by the script but for these,
# each justified:
#
#   SERVER_PORT      two servers, two ports
#   REMOTE_PORT      a connection's own, different every time
#   SCRIPT_FILENAME  fcgiwrap finds the script by it; the runner knows
#                    its function's program and sends none (no path of
#                    the host reaches a function it does not need)
#   FAAS_FUNCTION, FAAS_REQUEST_ID
#                    the runner's documented additions
#   PATH             the runner's fixed /usr/local/bin:/usr/bin:/bin;
#                    fcgiwrap passes on its own environment's
#   anything else of fcgiwrap's own environment (it leaks into scripts;
#                    the runner's never does)

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use File::Copy qw(copy);

my $t = FaasTest->new;
my $p = $t->prefix;

my $sh = <<'EOF';
#!/bin/sh
case "$QUERY_STRING" in status=*) printf 'Status: %s Chosen\r\n' "${QUERY_STRING#status=}";; esac
printf 'Content-Type: text/plain\r\nX-Cgi: sh\r\n\r\n'
env | LC_ALL=C sort | sed 's/^/ENV /'
n=$(cat | tee /dev/stderr 2>/dev/null | wc -c)
printf '\nBODY %s\n' "$n"
EOF

my $pl = <<'EOF';
#!/usr/bin/perl
print "Status: $1 Chosen\r\n" if ($ENV{QUERY_STRING} // '') =~ /^status=(\d+)/;
print "Content-Type: text/plain\r\nX-Cgi: perl\r\n\r\n";
print "ENV $_=$ENV{$_}\n" for sort keys %ENV;
local $/;
my $body = <STDIN> // '';
print $body, "\nBODY ", length($body), "\n";
EOF

$t->function('shcgi', "exec = ./run\nmode = cgi\n", run => $sh);
$t->function('plcgi', "exec = ./run\nmode = cgi\n", run => $pl);
$t->function('ccgi', "exec = ./run\nmode = cgi\n");
copy("$FaasTest::BUILD/t/cgi", "$p/functions/ccgi/run") or die "copy: $!";
chmod 0755, "$p/functions/ccgi/run";

$t->start_runner;

# fcgiwrap as the user the runner's CGI processes run as
my $user = $> == 0 ? 'nobody' : getpwuid($>);
mkdir "$p/wrap";
chown scalar(getpwnam($user)), -1, "$p/wrap" if $> == 0;
my $wrap = fork // die;
if ($wrap == 0) {
    alarm 0;
    open STDIN, '<', '/dev/null';
    open STDOUT, '>>', "$p/logs/fcgiwrap.log";
    open STDERR, '>&', \*STDOUT;
    # a process group of its own: its -c children are stopped with it
    POSIX::setpgid(0, 0);
    if ($> == 0) {
        # as that user, and fcgiwrap itself is the pid we stop (a
        # runuser in between left it running when it was stopped)
        my ($uid, $gid) = (getpwnam($user))[2, 3];
        POSIX::setgid($gid);
        $) = "$gid $gid";
        POSIX::setuid($uid);
    }
    exec 'fcgiwrap', '-c', '2', '-s', "unix:$p/wrap/sock"
        or POSIX::_exit(127);
}
ok(FaasTest::wait_for(sub { -S "$p/wrap/sock" }, 10), 'fcgiwrap is up');
chmod 0777, "$p/wrap/sock";

my $port2 = FaasTest::free_port();
$t->start_nginx($t->faas_location . <<"EOF");
    server {
        listen 127.0.0.1:$port2;
        client_max_body_size 0;
        location ~ ^/fn/(?<fname>[^/]*) {
            fastcgi_split_path_info ^(/fn/[^/]*)(/.*)?\$;
            fastcgi_pass unix:$p/wrap/sock;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $p/functions/\$fname/run;
            fastcgi_param PATH_INFO \$fastcgi_path_info;
        }
    }
EOF

# (REMOTE_HOST: the module sets it to the address, as RFC 3875 4.1.9
# allows; fastcgi_params sends none. FAAS_HEADER_MAX, FAAS_MOUNT: what
# the module tells the runner, passed on as every parameter is)
my %justified = map { $_ => 1 }
    qw(SERVER_PORT REMOTE_PORT SCRIPT_FILENAME FAAS_FUNCTION
       FAAS_REQUEST_ID PATH REMOTE_HOST FAAS_HEADER_MAX FAAS_MOUNT
       FAAS_STDERR);

sub ask {
    my ($port, $req) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or die "connect: $!";
    return FaasTest::http_exchange($s, $req, timeout => 20);
}

# status line, headers in order (but Date, Server), body without ENV
sub shape {
    my ($r) = @_;
    return 'no answer' unless $r;
    my ($head) = split /\r\n\r\n/, $r->{raw}, 2;
    my @h = grep { !/^(Date|Server):/i } split /\r\n/, $head;
    (my $body = $r->{body}) =~ s/^ENV [^\n]*\n//mg;
    return join("\n", @h, '--', $body);
}

sub env_of {
    my ($r) = @_;
    return { map { /^ENV ([^=]+)=(.*)$/ ? ($1, $2) : () }
             split /\n/, $r->{body} // '' };
}

my $post = join '', map { chr(48 + $_ % 43) } 1 .. 70_000;

for my $fn (qw(shcgi plcgi ccgi)) {
    for my $c ([ 'GET', "/fn/$fn/extra/path?a=1&b=two", undef ],
               [ 'GET', "/fn/$fn?status=404", undef ],
               # an absolute target and a Host header that differs:
               # HTTP_HOST is $host, as Debian's fastcgi_params sends
               [ 'GET', "http://Example.ORG/fn/$fn/abs", undef ],
               [ 'POST', "/fn/$fn", $post ])
    {
        my ($m, $uri, $body) = @$c;
        my $req = "$m $uri HTTP/1.0\r\nHost: example.com\r\n"
                . "X-Custom: a value\r\nCookie: c=1\r\n"
                . (defined $body ? "Content-Type: text/plain\r\n"
                   . "Content-Length: " . length($body) . "\r\n" : '')
                . "\r\n" . ($body // '');

        my $ours = ask($t->port, $req);
        my $theirs = ask($port2, $req);

        is(shape($ours), shape($theirs), "$m $uri: same status, headers "
           . "and body as fcgiwrap");

        my ($a, $b) = (env_of($ours), env_of($theirs));
        my @diff = grep { !$justified{$_} }
                   grep { ($a->{$_} // "\0") ne ($b->{$_} // "\0") }
                   keys %{ { %$a, %$b } };
        # fcgiwrap's own environment leaks in; the runner's never does
        @diff = grep { exists $a->{$_} } @diff;
        is("@{[ sort @diff ]}", '', "$m $uri: the same meta-variables "
           . '(but the justified differences)')
            or diag(join "\n", map { "$_: ours=" . ($a->{$_} // '(none)')
                                     . " fcgiwrap=" . ($b->{$_} // '(none)') }
                               sort @diff);
        ok(keys %$a > 15, "$m $uri: the script saw its environment");
    }
}

kill 'TERM', -$wrap;
FaasTest::wait_for(sub { waitpid($wrap, POSIX::WNOHANG()) != 0 }, 5)
    or do { kill 'KILL', -$wrap; waitpid($wrap, 0) };
kill 'KILL', -$wrap;
# fcgiwrap's -c children leave with their parent
ok(FaasTest::wait_for(sub {
    !grep { (FaasTest::read_file("/proc/$_/cmdline") =~ /^fcgiwrap/)
            && FaasTest::read_file("/proc/$_/cmdline") =~ /\Q$p\E/ }
     map { m{(\d+)$} } glob '/proc/[0-9]*' }, 5), 'no fcgiwrap is left');

$t->done;

done_testing;
