package conformance

import (
	"github.com/mailcheck/mailcheck/reference/smtpserver"
)

// The content-integrity checks (smtp.content.*): each fault stores what
// it accepted altered, the way real servers were seen to.
func init() {
	truncate := smtpFault(func(o *smtpserver.Options) { o.Faults.TruncateLongLines = true })
	faultFor["smtp.content.long-line-1500"] = truncate
	faultFor["smtp.content.long-line-5000"] = truncate
	faultFor["smtp.content.from-line"] = smtpFault(func(o *smtpserver.Options) { o.Faults.QuoteFromLines = true })
	faultFor["smtp.content.long-header-line"] = smtpFault(func(o *smtpserver.Options) { o.Faults.RefoldLongHeaderLines = true })
}
