package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

func faultCode(code string) tcsstest.Fault {
	return tcsstest.Fault{Code: code, Message: "injected " + code}
}

func faultDrop() tcsstest.Fault { return tcsstest.Fault{Drop: true} }

func newRequest(method, target, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	return httptest.NewRequest(method, target, rd)
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
