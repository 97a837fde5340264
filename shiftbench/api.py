from ninja import NinjaAPI

api = NinjaAPI(title="ShiftBench API", version="1")
