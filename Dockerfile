# syntax=docker/dockerfile:1
# Clipsheet in a container: a static binary on distroless (no shell, no
# package manager; CA certificates and time zones for fetching), run as an
# unprivileged user, with the database, sources.yaml and optional
# clipsheet.yaml in the /data volume.
#
#   docker build --build-arg VERSION=$(git describe --tags --dirty) -t clipsheet .   (or: make image)
#   docker run -d --name clipsheet -p 8080:8080 -v clipsheet-data:/data clipsheet
#
# See "Install on a server" in README.md.

ARG GO_VERSION=1.26.8

# The build runs on the builder's own platform and cross-compiles (no cgo),
# so an arm64 image builds at native speed on an amd64 machine.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY cmd ./cmd
COPY internal ./internal
COPY web ./web
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath \
      -ldflags "-s -w -X github.com/clipsheet/clipsheet/internal/version.stamped=${VERSION}" \
      -o /out/clipsheet ./cmd/clipsheet
# The volume's first contents: Docker copies them into a new named volume,
# so the admin UI finds a sources.yaml it can edit in place (it writes a
# temporary file beside it and renames, which needs a writable directory).
COPY sources.yaml /out/data/sources.yaml

# nonroot: uid and gid 65532, no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/clipsheet /usr/local/bin/clipsheet
COPY --from=build --chown=65532:65532 /out/data /data
# Environment rather than flags: `docker exec` and the health check read the
# same settings as serve. /data/clipsheet.yaml, when present, sets the rest
# (the working directory is where the default settings file is looked for).
ENV CLIPSHEET_ADDR=0.0.0.0:8080 \
    CLIPSHEET_DATA_DIR=/data \
    CLIPSHEET_SOURCES=/data/sources.yaml
WORKDIR /data
USER 65532:65532
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=6s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/clipsheet", "healthcheck", "--timeout", "5s"]
ENTRYPOINT ["/usr/local/bin/clipsheet"]
CMD ["serve"]
