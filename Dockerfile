# PostgreSQL 16 with ims_crawler installed. Every build step is in
# scripts/install-extension.sh, which CI runs too (scripts/test.sh).
#   docker build -t ims-crawler .
#   docker run -d -e POSTGRES_PASSWORD=secret -p 5432:5432 ims-crawler
FROM postgres:16-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gcc libc6-dev make pkg-config \
      clang libclang-dev postgresql-server-dev-16 \
 && curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain 1.95.0
ENV PATH=/root/.cargo/bin:$PATH
WORKDIR /src
COPY . .
RUN bash scripts/install-extension.sh --pg-config /usr/lib/postgresql/16/bin/pg_config --package /out

FROM postgres:16-bookworm
COPY --from=build /out/usr/ /usr/
COPY docker/initdb/ /docker-entrypoint-initdb.d/
