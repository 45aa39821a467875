# make install: PREFIX (default /usr/local) and DESTDIR, as packagers expect.
# Binaries, the web root, systemd units rendered for PREFIX, the nginx site
# rendered from the one template, and an example config (never overwritten).
BINDIR    = $(PREFIX)/bin
SHAREDIR  = $(PREFIX)/share/whepcam
MANDIR    = $(PREFIX)/share/man
UNITDIR  ?= /lib/systemd/system
SITE_PORT ?= 80
SITE_TLS_PORT ?= 443
# The FastCGI socket nginx passes to: whepcam-fcgi.socket's, so the two agree.
SITE_FCGI_SOCKET = $(shell sed -n 's/^ListenStream=//p' deploy/systemd/whepcam-fcgi.socket.in)
# render_site(WEB_ROOT, OUT): the one site template, filled for an installed box.
render_site = HOST=0.0.0.0 PORT=$(SITE_PORT) TLS_PORT=$(SITE_TLS_PORT) \
	FCGI_SOCKET=$(SITE_FCGI_SOCKET) WEB_ROOT=$(1) sh nginx/render.sh site $(2)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR)/web $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)/etc/whepcam $(DESTDIR)/etc/nginx/sites-available $(DESTDIR)$(SHAREDIR)/docs
	install -m 755 $(BUILD)/whepcamd $(BUILD)/whepcam-fcgi $(DESTDIR)$(BINDIR)/
	install -m 644 web/index.html web/style.css web/player.js $(DESTDIR)$(SHAREDIR)/web/
	install -m 644 README.md docs/*.md $(DESTDIR)$(SHAREDIR)/docs/
	install -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 644 docs/man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 docs/man/*.8 $(DESTDIR)$(MANDIR)/man8/
	for u in deploy/systemd/*.in; do \
		sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DOCDIR@|$(SHAREDIR)/docs|g' $$u \
			> $(DESTDIR)$(UNITDIR)/$$(basename $${u%.in}); \
	done
	$(call render_site,$(SHAREDIR)/web,$(DESTDIR)/etc/nginx/sites-available/whepcam.conf)
	[ -e $(DESTDIR)/etc/whepcam/whepcam.conf ] || \
		install -m 644 deploy/whepcam.conf.example $(DESTDIR)/etc/whepcam/whepcam.conf

# The site as the package installs it, committed for people who copy it by
# hand; deploy_install.sh fails when it no longer matches the template.
deploy/nginx/whepcam.conf: nginx/whepcam-site.conf.in nginx/render.sh deploy/systemd/whepcam-fcgi.socket.in
	mkdir -p deploy/nginx
	$(call render_site,/usr/share/whepcam/web,$@)
