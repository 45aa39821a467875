# make deb: the files of `make install PREFIX=/usr` as a Debian package.
# Shared-library dependencies come from dpkg-shlibdeps, GStreamer plugins and
# nginx are listed in deploy/deb/control.in, the maintainer scripts (user,
# units, nginx site) are in deploy/deb/. Any user can build it: dpkg-deb
# --root-owner-group makes every file root's without fakeroot; build/ must be
# the user's (docs/deploy.md: install the packages with sudo, build without).
DEB_VERSION = $(shell sed -n 's/^\#define WHEPCAM_VERSION "\(.*\)"/\1/p' common/whepcam.h)
DEB_ARCH    = $(shell dpkg --print-architecture)
DEB_FILE    = $(BUILD)/whepcam_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_TOP     = $(BUILD)/deb
DEB_ROOT    = $(DEB_TOP)/debian/whepcam

deb: $(DEB_FILE)

# `sudo make all` leaves build/ to root, and dpkg-deb needs to write there:
# say so and what to do, before anything half-builds.
ifneq ($(filter deb,$(MAKECMDGOALS)),)
DEB_NOT_MINE := $(shell find $(BUILD) ! -writable -print -quit 2>/dev/null)
ifneq ($(DEB_NOT_MINE),)
$(error make deb: $(DEB_NOT_MINE) is not writable by you (built with sudo?). \
Run: sudo chown -R "$$(id -un):" $(BUILD) && make deb   (or: sudo make deb))
endif
endif

$(DEB_FILE): all $(wildcard deploy/deb/* deploy/systemd/* docs/man/* web/* nginx/*) deploy/install.mk
	rm -rf $(DEB_TOP) && mkdir -p $(DEB_ROOT)/DEBIAN
	$(MAKE) -s install DESTDIR=$(abspath $(DEB_ROOT)) PREFIX=/usr
	gzip -9n $(DEB_ROOT)/usr/share/man/man*/*
	printf 'Source: whepcam\n\nPackage: whepcam\nArchitecture: any\n' > $(DEB_TOP)/debian/control
	shlibs=$$(cd $(DEB_TOP) && dpkg-shlibdeps -O -edebian/whepcam/usr/bin/whepcamd \
		-edebian/whepcam/usr/bin/whepcam-fcgi | sed 's/^shlibs:Depends=//'); \
	size=$$(du -sk --exclude=DEBIAN $(DEB_ROOT) | cut -f1); \
	sed -e "s|@VERSION@|$(DEB_VERSION)|" -e "s|@ARCH@|$(DEB_ARCH)|" -e "s|@SIZE@|$$size|" \
		-e "s|@SHLIBS@|$$shlibs|" deploy/deb/control.in > $(DEB_ROOT)/DEBIAN/control
	cd $(DEB_ROOT) && find etc -type f | sed 's|^|/|' | sort > DEBIAN/conffiles
	cd $(DEB_ROOT) && find usr lib -type f | sort | xargs md5sum > DEBIAN/md5sums
	install -m 755 deploy/deb/postinst deploy/deb/prerm deploy/deb/postrm $(DEB_ROOT)/DEBIAN/
	dpkg-deb --root-owner-group -Zxz --build $(DEB_ROOT) $@
