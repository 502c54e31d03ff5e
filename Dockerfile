# syntax=docker/dockerfile:1
# Relais: a multi-stage build. The SQLite driver uses cgo, so the builder needs gcc
# (present in golang:*-bookworm) and the runtime the same glibc (bookworm).

FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=1
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -trimpath -ldflags="-s -w" -o /out/relais ./cmd/relais

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin relais \
 && mkdir -p /data \
 && chown relais:relais /data
COPY --from=build /out/relais /usr/local/bin/relais
# SQLite in the volume by default; docker-compose.yml points RELAIS_DATABASE at PostgreSQL instead.
ENV RELAIS_ADDR=:8080 \
    RELAIS_DATABASE=sqlite:/data/relais.db
WORKDIR /data
VOLUME /data
USER relais
EXPOSE 8080
ENTRYPOINT ["relais", "serve"]
