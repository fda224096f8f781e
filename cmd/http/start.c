/*
 * Start and free: the TLS files, the listening socket, the descriptor
 * limit, the loop's own descriptors and the two daemons.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cmd.h"
#include "http.h"
#include "msg.h"

static int
read_file(const char *what, const char *path, char **out)
{
	FILE *fp;
	long n;
	char *p;

	if ((fp = fopen(path, "rb")) == NULL) {
		msg_err("%s: cannot open '%s'", what, path);
		return -1;
	}
	if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 || n > 1 << 20 ||
	    fseek(fp, 0, SEEK_SET) != 0 ||
	    (p = malloc((size_t)n + 1)) == NULL) {
		msg_errx("%s: cannot read '%s'", what, path);
		fclose(fp);
		return -1;
	}
	if (fread(p, 1, (size_t)n, fp) != (size_t)n) {
		msg_errx("%s: cannot read '%s'", what, path);
		free(p);
		fclose(fp);
		return -1;
	}
	p[n] = '\0';
	fclose(fp);
	*out = p;
	return 0;
}

/* Create, bind and listen; -1 after printing why. */
static int
listen_on(const struct httpd_opts *o, char *url, size_t urlsz, bool tls)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN + 2], port[16], ip[INET6_ADDRSTRLEN];
	const char *name = o->bind;
	char buf[256];
	size_t n = strlen(name);
	int fd, one = 1, rc;

	/* Accept [::1] as well as ::1. */
	if (n >= 2 && name[0] == '[' && name[n - 1] == ']' &&
	    n - 2 < sizeof(buf)) {
		memcpy(buf, name + 1, n - 2);
		buf[n - 2] = '\0';
		name = buf;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%lld", o->port);
	if ((rc = getaddrinfo(name, port, &hints, &res)) != 0) {
		msg_errx("cannot bind '%s': %s", o->bind, gai_strerror(rc));
		return -1;
	}
	fd = socket(
	    res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, 1024) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
		msg_err("cannot bind %s%s%s:%lld",
		    res->ai_family == AF_INET6 ? "[" : "", name,
		    res->ai_family == AF_INET6 ? "]" : "", o->port);
		if (fd != -1)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(host, sizeof(host), "[%s]", ip);
		snprintf(port, sizeof(port), "%u", ntohs(s6->sin6_port));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(host, sizeof(host), "%s", ip);
		snprintf(port, sizeof(port), "%u", ntohs(s4->sin_port));
	}
	snprintf(url, urlsz, "%s://%s:%s/", tls ? "https" : "http", host, port);
	return fd;
}

/* Room for every allowed client, and then some. */
static void
raise_fd_limit(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= (rlim_t)want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)want
	    ? (rlim_t)want
	    : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

void
httpd_block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* The loop's own descriptors: epoll, the wake eventfd, the signalfd. */
static int
loop_fds(struct httpd *h)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	h->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	h->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (h->ep == -1 || h->wakefd == -1 || h->sigfd == -1 ||
	    httpd_watch_fd(h->ep, &h->lfd) == -1 ||
	    httpd_watch_fd(h->ep, &h->wakefd) == -1 ||
	    httpd_watch_fd(h->ep, &h->sigfd) == -1) {
		msg_err("cannot set up the event loop");
		return -1;
	}
	return 0;
}

static struct httpd *
httpd_new(const struct httpd_opts *o, const struct httpd_source *src)
{
	struct httpd *h;
	const char *env = getenv("SSE_TOKEN");

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		msg_errx("out of memory");
		return NULL;
	}
	h->o = *o;
	h->src = *src;
	h->tls = o->tls_cert != NULL || o->tls_key != NULL;
	h->ep = h->wakefd = h->sigfd = h->lfd = -1;
	h->pwait2 = true;
	TAILQ_INIT(&h->pending);
	TAILQ_INIT(&h->pubs);
	TAILQ_INIT(&h->streams);
	if (h->o.token == NULL && env != NULL && *env != '\0')
		h->o.token = env;
	return h;
}

/*
 * After the URL: where the stream is (a new user pointed sse listen at the
 * viewer's URL), how to connect with the token (never printed), and how
 * to publish.
 */
static void
say_how(struct httpd *h, const char *url)
{
	if (msg_is_quiet())
		return;
	if (h->o.viewer)
		fprintf(stderr, "sse: events at %sevents, the viewer at %s\n",
		    url, url);
	else
		fprintf(stderr, "sse: events at %sevents\n", url);
	if (h->o.token != NULL)
		fprintf(stderr,
		    "sse: with the token: sse listen -H 'Authorization: "
		    "Bearer TOKEN' %sevents%s%s%s\n",
		    url, h->o.viewer ? ", or " : "", h->o.viewer ? url : "",
		    h->o.viewer ? "?token=TOKEN in a browser" : "");
	if (h->o.publish)
		fprintf(stderr, "sse: publish: curl%s -d 'a line' %sevents\n",
		    h->o.publish_token != NULL
			? " -H 'Authorization: Bearer PUBLISH_TOKEN'"
			: "",
		    url);
}

void
httpd_announce(struct httpd *h)
{
	fprintf(stderr, "sse: serving %s\n", h->url);
	say_how(h, h->url);
}

int
httpd_start(struct httpd **out, const struct httpd_opts *o,
    const struct httpd_source *src)
{
	struct httpd *h;
	char url[128];
	unsigned limit;
	int rc = EXIT_ERROR;

	*out = NULL;
	if ((o->tls_cert == NULL) != (o->tls_key == NULL)) {
		msg_errx("--tls-cert and --tls-key go together");
		return EXIT_USAGE;
	}
	if (o->tls_cert != NULL && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		msg_errx("this libmicrohttpd has no TLS");
		return EXIT_ERROR;
	}
	if ((h = httpd_new(o, src)) == NULL)
		return EXIT_ERROR;
	if (h->tls &&
	    (read_file("--tls-cert", o->tls_cert, &h->cert) == -1 ||
		read_file("--tls-key", o->tls_key, &h->key) == -1))
		goto fail;
	if ((h->lfd = listen_on(o, url, sizeof(url), h->tls)) == -1) {
		rc = EXIT_CONNECT;
		goto fail;
	}
	limit = (unsigned)o->max_clients + EXTRA_CONNS;
	raise_fd_limit(2 * (long)limit + MAX_PENDING + 64);
	if (loop_fds(h) == -1 || req_log_open(h) == -1)
		goto fail;
	if ((!h->tls && door_open(h, &h->door[0], true, limit) == -1) ||
	    door_open(h, &h->door[1], false, limit) == -1) {
		msg_errx("cannot start the HTTP server%s",
		    h->tls ? " (check the TLS certificate and key)" : "");
		goto fail;
	}
	snprintf(h->url, sizeof(h->url), "%s", url);
	if (!src->announce_later)
		httpd_announce(h);
	*out = h;
	return 0;
fail:
	httpd_free(h);
	return rc;
}

void
httpd_free(struct httpd *h)
{
	int i;

	if (h == NULL)
		return;
	/* libmicrohttpd must not be stopped with streams suspended. */
	publish_resume_all(h);
	stream_resume_all(h);
	loop_run_doors(h);
	for (i = 0; i < 2; i++)
		if (h->door[i].d != NULL)
			MHD_stop_daemon(h->door[i].d);
	door_close_all(h);
	if (h->ep != -1)
		close(h->ep);
	if (h->wakefd != -1)
		close(h->wakefd);
	if (h->sigfd != -1)
		close(h->sigfd);
	if (h->alog != NULL && h->alog != stdout)
		fclose(h->alog);
	free(h->heap);
	free(h->cert);
	free(h->key);
	free(h);
}
