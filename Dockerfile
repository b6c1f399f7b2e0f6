# Builds the `osop` binary; the migrations are compiled into it.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p api --bin osop

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/osop /usr/local/bin/osop
ENV BIND=0.0.0.0:8003
EXPOSE 8003
ENTRYPOINT ["osop"]
CMD ["serve"]
