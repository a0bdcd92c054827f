def test_health(api):
    r = api.get("/api/health")
    assert r.status_code == 200
    assert r.data == {"status": "ok"}
