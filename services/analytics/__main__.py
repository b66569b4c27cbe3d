from services.analytics.app import create_app
from shared.service import run_service

run_service(create_app)
