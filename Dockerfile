# Image for compose.yaml: one image, every service is a `wastream` sub-command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md LICENSE requirements.lock ./
# The locked versions, hashes checked; then the project itself, without resolving again.
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY wastream ./wastream
COPY ingress ./ingress
COPY streams ./streams
COPY schemas ./schemas
COPY projections ./projections
# stand-ins (`wastream graph-stub`) and fault injection for drills
COPY standins ./standins
RUN pip install --no-cache-dir --no-deps .
USER nobody
CMD ["wastream", "--help"]
