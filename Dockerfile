# Dockerfile - the Stremora server image (docs/deploy.md). One image serves two services of
# docker-compose.yml: "app" (the FastCGI pool: deploy/docker-entrypoint.sh) and "nginx" (Debian's
# nginx with nginx-conf/stremora.conf), so both share one /etc/group and agree on the group
# that owns the pool's socket and the media (stremora, GID 10001).
#
#   base     debian:bookworm-slim + what a server runs (deploy/install-deps --runtime; ffmpeg
#            too: the worker transcodes, and the pool re-encodes avatars and banners)
#   build    base + the C toolchain and -dev packages; builds stremora-fcgi, stremora-worker
#            and stremoractl
#   web      the browser app: web/ with hashed asset names (tools/webbuild), from the npm
#            packages web/package-lock.json pins (nothing of Node reaches the final image)
#   files    picks the data files out of the build context
#   runtime  base + binaries + schemas + web app + nginx config; runs as user stremora

FROM debian:bookworm-slim AS base
COPY deploy/install-deps /tmp/install-deps
RUN sh /tmp/install-deps --runtime && rm -rf /var/lib/apt/lists/* /tmp/install-deps

FROM base AS build
COPY deploy/install-deps /tmp/install-deps
RUN sh /tmp/install-deps --build && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY common/ common/
COPY fcgi/ fcgi/
COPY ctl/ ctl/
COPY worker/ worker/
RUN make -j"$(nproc)" build/stremora-fcgi build/stremora-worker build/stremoractl

FROM debian:bookworm-slim AS web
RUN apt-get update -q && apt-get install -y -q --no-install-recommends nodejs npm ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY web/package.json web/package-lock.json web/
RUN cd web && npm ci --omit=dev --no-audit --no-fund --loglevel=error
COPY web/*.html web/*.js web/*.css web/*.svg web/
COPY tools/webbuild tools/
RUN mkdir -p build && tools/webbuild /out/web

# The whole context; only /out reaches the final image.
FROM debian:bookworm-slim AS files
COPY . /ctx
RUN set -eu; \
    mkdir -p /out/opt/stremora /out/etc/nginx/stremora; \
    cp -R /ctx/sql-free-schemas /out/opt/stremora/; \
    cp /ctx/nginx-conf/stremora.conf /out/etc/nginx/stremora/; \
    cp -R /ctx/nginx-conf/snippets /out/etc/nginx/stremora/; \
    sed -e 's|@SNIPPETS@|/etc/nginx/stremora/snippets|g' -e 's|@MEDIA@|/var/lib/stremora/media|g' \
        /ctx/nginx-conf/snippets/media.conf >/out/etc/nginx/stremora/media.conf; \
    cp /ctx/deploy/docker-entrypoint.sh /out/opt/stremora/

FROM base AS runtime
# stremora (UID/GID 10001) runs the pool and owns the socket (mode 0660) and the media;
# nginx's workers run as www-data with group stremora (the `user` line of stremora.conf).
# nginx logs go to the container's stdout/stderr.
RUN set -eu; \
    groupadd --gid 10001 stremora; \
    useradd --uid 10001 --gid stremora --home-dir /var/lib/stremora --no-create-home \
        --shell /usr/sbin/nologin stremora; \
    install -d -o stremora -g stremora -m 0750 /var/lib/stremora /var/lib/stremora/media \
        /var/lib/stremora/media/tmp /var/lib/stremora/media/videos \
        /var/lib/stremora/media/uploads /var/lib/stremora/media/images /run/stremora; \
    install -d -m 0755 /opt/stremora/bin /etc/stremora/tls /var/www/acme; \
    ln -sf /dev/stdout /var/log/nginx/stremora-access.log; \
    ln -sf /dev/stderr /var/log/nginx/stremora-error.log
COPY --from=build /src/build/stremora-fcgi /src/build/stremora-worker /src/build/stremoractl \
    /opt/stremora/bin/
COPY --from=files /out/opt/stremora/ /opt/stremora/
COPY --from=web /out/web/ /opt/stremora/web/
COPY --from=files /out/etc/nginx/stremora/ /etc/nginx/stremora/

ENV PATH=/opt/stremora/bin:$PATH \
    STREMORA_KEY_FILE=/var/lib/stremora/keys.json \
    STREMORA_MEDIA_ROOT=/var/lib/stremora/media \
    STREMORA_SHM_FILE=/run/stremora/stremora.shm \
    STREMORA_WORKERS=4
USER stremora
WORKDIR /var/lib/stremora
ENTRYPOINT ["/bin/sh", "/opt/stremora/docker-entrypoint.sh"]
