CSV = b"""First name,Surname,Date of birth,Gender,Year group,Registration group,UPN
Zo\xc3\xab,Smith,01/02/2015,F,Year 5,5B,
Adam,Jones,2014-03-04,M,5,5A,
"""


def test_smoke(importer, api):
    imp = importer.upload("pupils", CSV)
    print(imp)
    assert imp["status"] == "mapping"
    imp = importer.map(imp)
    print(imp)
    imp = importer.commit(imp)
    print(imp)
    print(api.get("/api/pupils").data)
