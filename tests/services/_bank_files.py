"""Bank return files as a French bank sends them: pain.002.001.03 status reports and
camt.054.001.02 debit notifications (built, not read from disk, so each test says what it
returns)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

PAIN_002 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"
CAMT_054 = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"
CREDITOR_IBAN = "FR7630001007941234567890185"


def pain002(
    message_id: str,
    rejected: Sequence[tuple[str, str, Decimal]],
    *,
    original: str = "RONDE-20231005",
) -> bytes:
    """A status report on the pain.008 ``original``: ``rejected`` ``(end-to-end id, reason,
    amount)`` with ``TxSts`` RJCT (the EPC's pain.002 reports rejections only)."""
    transactions = []
    for number, (end_to_end, code, amount) in enumerate(rejected, start=1):
        transactions.append(
            f"""      <TxInfAndSts>
        <StsId>STS-{number}</StsId>
        <OrgnlEndToEndId>{end_to_end}</OrgnlEndToEndId>
        <TxSts>RJCT</TxSts>
        <StsRsnInf>
          <Orgtr><Id><OrgId><BICOrBEI>BNPAFRPPXXX</BICOrBEI></OrgId></Id></Orgtr>
          <Rsn><Cd>{code}</Cd></Rsn>
        </StsRsnInf>
        <OrgnlTxRef>
          <Amt><InstdAmt Ccy="EUR">{amount:.2f}</InstdAmt></Amt>
          <ReqdColltnDt>2023-10-20</ReqdColltnDt>
        </OrgnlTxRef>
      </TxInfAndSts>"""
        )
    body = "\n".join(transactions)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{PAIN_002}">
  <CstmrPmtStsRpt>
    <GrpHdr>
      <MsgId>{message_id}</MsgId>
      <CreDtTm>2023-10-24T06:12:00</CreDtTm>
      <CdtrAgt><FinInstnId><BIC>BDFEFRPPCCT</BIC></FinInstnId></CdtrAgt>
    </GrpHdr>
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>{original}</OrgnlMsgId>
      <OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId>
    </OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>{original}-RCUR</OrgnlPmtInfId>
{body}
    </OrgnlPmtInfAndSts>
  </CstmrPmtStsRpt>
</Document>
""".encode()


def camt054(
    message_id: str,
    returned: Sequence[tuple[str, str, Decimal]],
    *,
    booked: date = date(2023, 10, 26),
) -> bytes:
    """A debit notification on the creditor's account: one entry per returned debit
    ``(end-to-end id, reason, amount)`` (an R-transaction booked on ``booked``)."""
    entries = []
    for number, (end_to_end, code, amount) in enumerate(returned, start=1):
        entries.append(
            f"""      <Ntry>
        <NtryRef>{number}</NtryRef>
        <Amt Ccy="EUR">{amount:.2f}</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <RvslInd>true</RvslInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>{booked.isoformat()}</Dt></BookgDt>
        <ValDt><Dt>{booked.isoformat()}</Dt></ValDt>
        <BkTxCd>
          <Domn><Cd>PMNT</Cd><Fmly><Cd>RDDT</Cd><SubFmlyCd>UPDD</SubFmlyCd></Fmly></Domn>
        </BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs>
              <EndToEndId>{end_to_end}</EndToEndId>
              <MndtId>RUM-RONDE-0001</MndtId>
            </Refs>
            <AmtDtls><TxAmt><Amt Ccy="EUR">{amount:.2f}</Amt></TxAmt></AmtDtls>
            <RtrInf>
              <Rsn><Cd>{code}</Cd></Rsn>
            </RtrInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>"""
        )
    body = "\n".join(entries)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{CAMT_054}">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr>
      <MsgId>{message_id}</MsgId>
      <CreDtTm>2023-10-26T07:00:00+02:00</CreDtTm>
    </GrpHdr>
    <Ntfctn>
      <Id>{message_id}-1</Id>
      <CreDtTm>2023-10-26T07:00:00+02:00</CreDtTm>
      <Acct><Id><IBAN>{CREDITOR_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>
{body}
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>
""".encode()
