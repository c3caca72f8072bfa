# Production image: gunicorn serves the app; the same image runs the Celery worker and beat.
FROM node:20-bookworm-slim AS frontend
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN useradd --create-home --uid 1000 app
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY --from=frontend /build/node_modules ./node_modules
COPY . .
# collectstatic needs settings that pass the production checks; the real secret comes at run time.
RUN DEBUG=0 SECRET_KEY=build-only-placeholder-build-only-placeholder-build-only-placeholder \
    python manage.py collectstatic --no-input
# Items' images and audio (MEDIA_ROOT): a volume mounted here is shared by web and the worker, which writes
# the files of large imports; created here so the volume starts owned by the app user.
RUN mkdir -p /app/media && chown app /app/media
USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
