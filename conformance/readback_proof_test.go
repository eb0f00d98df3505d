package conformance

import (
	"github.com/mailcheck/mailcheck/internal/faultsmtp"
)

// The content-integrity checks (smtp.content.*): each fault stores what
// it accepted altered, the way real servers were seen to.
func init() {
	truncate := smtpWith(faultsmtp.TruncateLongLines)
	faultFor["smtp.content.long-line-1500"] = truncate
	faultFor["smtp.content.long-line-5000"] = truncate
	faultFor["smtp.content.from-line"] = smtpWith(faultsmtp.QuoteFromLines)
	faultFor["smtp.content.long-header-line"] = smtpWith(faultsmtp.RefoldLongHeaderLines)
}
